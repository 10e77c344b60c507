// Starts `guardrailc lsp` for .guard files, fixture files and guardrails.toml. The server's commands (guardrailc.showCel and
// guardrailc.showRego, also behind the code lenses) return text; the middleware opens that
// text beside the editor, and fills in the cursor when a command comes from the palette.
import * as vscode from "vscode";
import { LanguageClient, LanguageClientOptions, ServerOptions } from "vscode-languageclient/node";

let client: LanguageClient | undefined;

const SHOWN_AS: Record<string, string> = {
  "guardrailc.showCel": "yaml",
  "guardrailc.showRego": "rego",
};

export async function activate(): Promise<void> {
  const command = vscode.workspace.getConfiguration("guardrailc").get<string>("path", "guardrailc");
  const serverOptions: ServerOptions = { command, args: ["lsp"] };
  const clientOptions: LanguageClientOptions = {
    // Fixture files (their cases run on save) and guardrails.toml (its errors) go to the
    // server too.
    documentSelector: [
      { scheme: "file", language: "guard" },
      { scheme: "file", pattern: "**/tests/**/*.{yaml,yml}" },
      { scheme: "file", pattern: "**/guardrails.toml" },
    ],
    middleware: {
      executeCommand: async (name, args, next) => {
        const editor = vscode.window.activeTextEditor;
        if (args.length === 0 && editor) {
          const cursor = editor.selection.active;
          args = [editor.document.uri.toString(), { line: cursor.line, character: cursor.character }];
        }
        try {
          const text = await next(name, args);
          const language = SHOWN_AS[name];
          if (language && typeof text === "string") {
            const document = await vscode.workspace.openTextDocument({ content: text, language });
            await vscode.window.showTextDocument(document, vscode.ViewColumn.Beside, true);
          }
          return text;
        } catch (error) {
          vscode.window.showErrorMessage(error instanceof Error ? error.message : String(error));
          return undefined;
        }
      },
    },
  };
  client = new LanguageClient("guardrailc", "Guardrails", serverOptions, clientOptions);
  await client.start();
}

export async function deactivate(): Promise<void> {
  await client?.stop();
}
