//! What `guardrailc test` prints: progress while it runs, then what it found and each record.

use super::*;

pub(super) fn print_human(records: &[TestRecord], color: bool, elapsed: Duration) {
    let paint = |style: Style, text: &str| {
        if color {
            format!("{}{text}{}", style.render(), style.render_reset())
        } else {
            text.to_string()
        }
    };
    let fail = Style::new().fg_color(Some(AnsiColor::Red.into())).bold();
    let pass = Style::new().fg_color(Some(AnsiColor::Green.into())).bold();
    let mut stdout = std::io::stdout().lock();
    for record in records.iter().filter(|r| !r.passed()) {
        let place = match (&record.file, record.line) {
            (Some(file), Some(line)) => format!("{file}:{line}"),
            (Some(file), None) => file.clone(),
            _ => String::new(),
        };
        let scope = match (&record.guardrail, &record.env) {
            (Some(g), Some(e)) => format!(" {g} [{e}]"),
            (None, Some(e)) => format!(" [{e}]"),
            _ => String::new(),
        };
        // Names, places and failures come from fixtures and objects: escaped, they cannot
        // drive the terminal or forge report lines.
        let _ = writeln!(
            stdout,
            "{} {} {}{} {}",
            paint(fail, "FAIL"),
            record.kind.as_str(),
            printable(&place),
            printable(&scope),
            printable(&record.name)
        );
        for failure in &record.failures {
            for line in failure.lines() {
                let _ = writeln!(stdout, "    {}", printable(line));
            }
        }
    }
    let mut kinds: Vec<TestKind> = records.iter().map(|r| r.kind).collect();
    kinds.sort();
    kinds.dedup();
    for kind in kinds {
        let of_kind: Vec<TestRecord> = records.iter().filter(|r| r.kind == kind).cloned().collect();
        let (passed, failed) = reports::counts(&of_kind);
        let mark = if failed == 0 {
            paint(pass, "ok")
        } else {
            paint(fail, "FAILED")
        };
        let _ = writeln!(
            stdout,
            "{mark} {}: {passed} passed, {failed} failed",
            kind.as_str()
        );
    }
    let _ = writeln!(stdout, "finished in {:.2}s", elapsed.as_secs_f64());
    let _ = writeln!(stdout, "{}", reports::summary_line(records));
}

/// A progress bar on standard error (indicatif), drawn only on a terminal and only once a
/// run has taken more than a second (short runs stay quiet). One step is a case run or a
/// generated request.
pub(super) struct Progress {
    pub(super) bar: ProgressBar,
    pub(super) started: Instant,
    pub(super) terminal: bool,
    pub(super) shown: Cell<bool>,
}

impl Progress {
    pub(super) fn new(total: usize, terminal: bool) -> Progress {
        let bar = ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::hidden());
        if let Ok(style) = ProgressStyle::with_template("[{bar:30}] {pos}/{len} {msg} ({eta})") {
            bar.set_style(style.progress_chars("#>-"));
        }
        Progress {
            bar,
            started: Instant::now(),
            terminal,
            shown: Cell::new(false),
        }
    }

    /// What the steps are now: `cases`, then `generated requests`.
    pub(super) fn stage(&self, what: &'static str) {
        self.bar.set_message(what);
    }

    pub(super) fn advance(&self) {
        self.bar.inc(1);
        if self.terminal && !self.shown.get() && self.started.elapsed() >= Duration::from_secs(1) {
            self.bar.set_draw_target(ProgressDrawTarget::stderr());
            self.shown.set(true);
        }
    }

    pub(super) fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

/// What a run found besides its records: files ignored, coverage, property runs. Printed
/// before the records in the human report, and as `details` in the JSON one.
pub(super) struct Findings<'a> {
    pub(super) ignored: &'a [(String, String)],
    pub(super) coverage: &'a [coverage::GuardrailCoverage],
    pub(super) rego_lines: &'a [coverage::RegoCoverage],
    pub(super) percent: f64,
    pub(super) properties: &'a [PropertyResult],
    pub(super) fuzz: u32,
    pub(super) seed: u64,
}

impl Findings<'_> {
    /// Reached and total Gatekeeper Rego lines over every guardrail and environment.
    pub(super) fn rego_reached(&self) -> (usize, usize) {
        self.rego_lines.iter().fold((0, 0), |(reached, total), c| {
            (reached + c.lines.reached.len(), total + c.lines.lines())
        })
    }

    pub(super) fn print_human(&self) {
        for (file, holds) in self.ignored {
            println!(
                "ignored: {} is not a fixture and no case reads it ({})",
                printable(file),
                printable(holds)
            );
        }
        for uncovered in self.coverage.iter().filter(|c| !c.is_covered()) {
            let missing = match (uncovered.allowed, uncovered.denied) {
                (0, 0) => "no passing case",
                (0, _) => "no allowed case",
                _ => "no denied case",
            };
            println!(
                "coverage: guardrail `{}` has {missing}",
                uncovered.guardrail
            );
        }
        for guardrail in self.coverage {
            for rule in guardrail.unfired_rules() {
                println!(
                    "coverage: rule {} (line {}) of `{}` fired in no case",
                    rule.index, rule.line, guardrail.guardrail
                );
            }
        }
        println!(
            "coverage: {:.0}% of guardrails have both an allowed and a denied case",
            self.percent
        );
        // One line per guardrail: the environments usually share the template's lines.
        let mut unreached: Vec<(&str, Vec<u32>, Vec<&str>)> = Vec::new();
        for c in self
            .rego_lines
            .iter()
            .filter(|c| !c.lines.not_reached.is_empty())
        {
            let lines: Vec<u32> = c.lines.not_reached.iter().copied().collect();
            match unreached
                .iter_mut()
                .find(|(g, l, _)| *g == c.guardrail && *l == lines)
            {
                Some((_, _, envs)) => envs.push(&c.env),
                None => unreached.push((&c.guardrail, lines, vec![&c.env])),
            }
        }
        for (guardrail, lines, envs) in unreached {
            let lines: Vec<String> = lines.iter().map(u32::to_string).collect();
            println!(
                "coverage: Gatekeeper Rego lines of `{guardrail}` no case reached: {} ({})",
                lines.join(", "),
                envs.join(", ")
            );
        }
        let (rego_reached, rego_total) = self.rego_reached();
        if rego_total > 0 {
            println!(
                "coverage: the fixtures reach {rego_reached} of {rego_total} Gatekeeper Rego lines ({:.0}%)",
                100.0 * rego_reached as f64 / rego_total as f64
            );
        }
        if self.fuzz > 0 {
            println!(
                "property: {} generated requests per guardrail and environment, seed {}",
                self.fuzz, self.seed
            );
        }
    }

    pub(super) fn json_details(&self) -> serde_json::Value {
        serde_json::json!({
            // Files under tests/ that are not fixtures and that no case reads.
            "ignored": self.ignored.iter().map(|(file, holds)| serde_json::json!({
                "file": file,
                "holds": holds,
            })).collect::<Vec<_>>(),
            "property": {
                "objects": self.fuzz,
                "seed": self.seed,
                "runs": self.properties.iter().map(|p| serde_json::json!({
                    "guardrail": p.guardrail,
                    "env": p.env,
                    "evaluated": p.evaluated,
                    "violating": p.violating,
                    "largest_cost": p.largest_cost,
                })).collect::<Vec<_>>(),
            },
            "coverage": {
                "percent": self.percent,
                "guardrails": self.coverage.iter().map(|c| serde_json::json!({
                    "guardrail": c.guardrail,
                    "allowed": c.allowed,
                    "denied": c.denied,
                    "covered": c.is_covered(),
                    "rules": c.rules.iter().map(|r| serde_json::json!({
                        "rule": r.index,
                        "line": r.line,
                        "fired": r.fired,
                    })).collect::<Vec<_>>(),
                })).collect::<Vec<_>>(),
                "rego": self.rego_lines.iter().map(|c| serde_json::json!({
                    "guardrail": c.guardrail,
                    "env": c.env,
                    "reached": c.lines.reached.len(),
                    "lines": c.lines.lines(),
                    "not_reached": c.lines.not_reached,
                })).collect::<Vec<_>>(),
            }
        })
    }
}
