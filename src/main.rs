//! The `guardrailc` command line: argument parsing, file IO and rendering only. Every
//! decision lives in the `guardrailc-compiler` and `guardrailc-testkit` crates.

mod cli;

/// Evaluating guardrails (`test`, `check`) allocates small maps and lists by the million;
/// mimalloc serves them markedly faster than the system allocator (docs/testing.md, "Numbers").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::{CommandFactory, Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "guardrailc",
    version,
    about = "Kubernetes guardrails, written once, compiled to ValidatingAdmissionPolicy and Gatekeeper/OPA, tested to agree"
)]
struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Compile a project into the policies clusters run
    Build(cli::build::BuildArgs),
    /// Explain a diagnostic code (e.g. G0301) or a guardrail of the project
    Explain(cli::explain::ExplainArgs),
    /// Run a project's fixtures, agreement, snapshot, property and coverage tests
    Test(cli::test::TestArgs),
    /// Evaluate a project's guardrails on manifests or a cluster export
    Check(cli::check::CheckArgs),
    /// Start a project from a library set (--from) or a small starter
    Init(cli::init::InitArgs),
    /// Show what changes when guardrails move from one environment to another
    Plan(cli::plan::PlanArgs),
    /// List exemptions with their owners, reasons and days left
    Exemptions(cli::exemptions::ExemptionsArgs),
    /// Write the catalog of guardrails (Markdown or HTML)
    Docs(cli::docs::DocsArgs),
    /// Rewrite .guard files in the canonical layout
    Fmt(cli::fmt::FmtArgs),
    /// Run the language server on stdin/stdout (started by editors)
    Lsp,
    /// Print a shell completion script (bash, zsh or fish)
    Completions(cli::completions::CompletionsArgs),
}

fn main() -> ExitCode {
    cli::install_panic_hook();
    cli::ignore_file_size_signal();
    let args = match Args::try_parse() {
        Ok(args) => args,
        Err(error) => return cli::usage_error(&error),
    };
    let result = match args.command {
        Command::Build(args) => cli::build::run(args),
        Command::Explain(args) => cli::explain::run(args),
        Command::Test(args) => cli::test::run(args),
        Command::Check(args) => cli::check::run(args),
        Command::Init(args) => cli::init::run(args),
        Command::Plan(args) => cli::plan::run(args),
        Command::Exemptions(args) => cli::exemptions::run(args),
        Command::Docs(args) => cli::docs::run(args),
        Command::Fmt(args) => cli::fmt::run(args),
        Command::Lsp => cli::lsp::run(),
        Command::Completions(args) => cli::completions::run(args, Args::command()),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error}");
            error.exit_code()
        }
    }
}
