//! The framing between the editor and tower-lsp-server. tower-lsp-server stops reading at
//! the first message it cannot decode (it answers −32700 and its input stream ends, so the
//! server exits with status 0). Here every message is checked before it reaches the server:
//! malformed JSON is answered with −32700 Parse error, JSON that is not a JSON-RPC message
//! with −32600 Invalid Request, a message over [`MAX_MESSAGE`] is skipped unread and
//! answered with −32600, and the server keeps serving. The server's own output is passed on
//! whole messages at a time, so the error answers never split one.

use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::sync::mpsc;
use tower_lsp_server::jsonrpc::{Request, Response};

/// The largest message read, in bytes: a document of the largest size the server analyses
/// (`MAX_DOCUMENT`) is far below it, even JSON-escaped.
pub const MAX_MESSAGE: usize = 64 * 1024 * 1024;

/// The longest header line read; a longer one is skipped as garbage.
const MAX_HEADER_LINE: usize = 8 * 1024;

/// A whole framed message.
fn frame(body: &[u8]) -> Vec<u8> {
    let mut out = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
    out.extend_from_slice(body);
    out
}

fn error_frame(id: Value, code: i64, message: &str) -> Vec<u8> {
    let body = json!({
        "jsonrpc": "2.0",
        "id": id,
        "error": { "code": code, "message": message },
    });
    frame(body.to_string().as_bytes())
}

/// What to do with one message body from the client.
enum Checked {
    Forward,
    Answer(Vec<u8>),
}

fn check(body: &[u8]) -> Checked {
    let value: Value = match serde_json::from_slice(body) {
        Ok(value) => value,
        Err(error) => {
            eprintln!("guardrailc lsp: a message is not JSON ({error}); answered −32700");
            return Checked::Answer(error_frame(
                Value::Null,
                -32700,
                &format!("Parse error: {error}"),
            ));
        }
    };
    if serde_json::from_slice::<Request>(body).is_ok()
        || serde_json::from_slice::<Response>(body).is_ok()
    {
        return Checked::Forward;
    }
    eprintln!("guardrailc lsp: a message is not a JSON-RPC request, notification or response; answered −32600");
    let id = match value.get("id") {
        Some(id @ (Value::Number(_) | Value::String(_))) => id.clone(),
        _ => Value::Null,
    };
    Checked::Answer(error_frame(
        id,
        -32600,
        "Invalid Request: not a JSON-RPC 2.0 request, notification or response",
    ))
}

/// Reads one header block; `Ok(None)` at the end of the input, `Ok(Some(None))` for a block
/// without a usable `Content-Length`.
async fn read_headers<R: AsyncRead + Unpin>(
    input: &mut BufReader<R>,
) -> std::io::Result<Option<Option<usize>>> {
    let mut length = None;
    let mut malformed = false;
    let mut saw_any = false;
    loop {
        let mut line = Vec::new();
        let read = (&mut *input)
            .take(MAX_HEADER_LINE as u64)
            .read_until(b'\n', &mut line)
            .await?;
        if read == 0 {
            return Ok(if saw_any { Some(None) } else { None });
        }
        if !line.ends_with(b"\n") {
            // Too long: skip the rest of the line.
            malformed = true;
            let mut rest = Vec::new();
            loop {
                rest.clear();
                let more = (&mut *input)
                    .take(MAX_HEADER_LINE as u64)
                    .read_until(b'\n', &mut rest)
                    .await?;
                if more == 0 || rest.ends_with(b"\n") {
                    break;
                }
            }
            saw_any = true;
            continue;
        }
        let text = String::from_utf8_lossy(&line);
        let text = text.trim_end_matches(['\r', '\n']);
        if text.is_empty() {
            if !saw_any {
                // Blank lines between messages.
                continue;
            }
            return Ok(Some(if malformed { None } else { length }));
        }
        saw_any = true;
        match text.split_once(':') {
            Some((name, value)) if name.trim().eq_ignore_ascii_case("content-length") => {
                match value.trim().parse::<usize>() {
                    Ok(n) => length = Some(n),
                    Err(_) => malformed = true,
                }
            }
            Some((name, _)) if name.trim().eq_ignore_ascii_case("content-type") => {}
            _ => malformed = true,
        }
    }
}

/// Passes the client's messages to the server, answering the ones it must not see.
pub async fn forward_input<R, W>(input: R, mut server: W, answers: mpsc::Sender<Vec<u8>>)
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut input = BufReader::new(input);
    loop {
        let length = match read_headers(&mut input).await {
            Err(error) => {
                eprintln!("guardrailc lsp: reading the client failed: {error}");
                return;
            }
            Ok(None) => return,
            Ok(Some(None)) => {
                eprintln!("guardrailc lsp: a message header without a valid Content-Length; answered −32700");
                let answer = error_frame(
                    Value::Null,
                    -32700,
                    "Parse error: a message header without a valid Content-Length",
                );
                if answers.send(answer).await.is_err() {
                    return;
                }
                continue;
            }
            Ok(Some(Some(length))) => length,
        };
        if length > MAX_MESSAGE {
            eprintln!("guardrailc lsp: skipped a message of {length} bytes, over the limit of {MAX_MESSAGE}");
            let skipped = tokio::io::copy(
                &mut (&mut input).take(length as u64),
                &mut tokio::io::sink(),
            )
            .await;
            let answer = error_frame(
                Value::Null,
                -32600,
                &format!("Invalid Request: a message of {length} bytes is over the limit of {MAX_MESSAGE}"),
            );
            if skipped.is_err() || answers.send(answer).await.is_err() {
                return;
            }
            continue;
        }
        let mut body = vec![0; length];
        if input.read_exact(&mut body).await.is_err() {
            eprintln!("guardrailc lsp: the input ended inside a message");
            return;
        }
        match check(&body) {
            Checked::Forward => {
                let sent = async {
                    server.write_all(&frame(&body)).await?;
                    server.flush().await
                };
                if sent.await.is_err() {
                    return;
                }
            }
            Checked::Answer(answer) => {
                if answers.send(answer).await.is_err() {
                    return;
                }
            }
        }
    }
}

/// Cuts the server's output into whole messages for [`write_output`].
pub async fn forward_output<R: AsyncRead + Unpin>(server: R, frames: mpsc::Sender<Vec<u8>>) {
    let mut server = BufReader::new(server);
    loop {
        let length = match read_headers(&mut server).await {
            Ok(Some(Some(length))) => length,
            // The server frames correctly; anything else is its end.
            _ => return,
        };
        let mut body = vec![0; length];
        if server.read_exact(&mut body).await.is_err() || frames.send(frame(&body)).await.is_err() {
            return;
        }
    }
}

/// Writes whole messages to the client, in the order they come.
pub async fn write_output<W: AsyncWrite + Unpin>(
    mut output: W,
    mut frames: mpsc::Receiver<Vec<u8>>,
) {
    while let Some(frame) = frames.recv().await {
        if output.write_all(&frame).await.is_err() || output.flush().await.is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn answers_to(input: &[u8]) -> (Vec<u8>, Vec<Value>) {
        let (mut server_side, server) = tokio::io::duplex(1 << 20);
        let (sender, mut receiver) = mpsc::channel(16);
        forward_input(input, server, sender).await;
        let mut forwarded = Vec::new();
        server_side.read_to_end(&mut forwarded).await.unwrap();
        let mut answers = Vec::new();
        while let Ok(frame) = receiver.try_recv() {
            let body = &frame[frame.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4..];
            answers.push(serde_json::from_slice(body).unwrap());
        }
        (forwarded, answers)
    }

    fn framed(body: &str) -> Vec<u8> {
        frame(body.as_bytes())
    }

    #[tokio::test]
    async fn malformed_messages_are_answered_and_the_next_one_still_passes() {
        let good = r#"{"jsonrpc":"2.0","id":7,"method":"shutdown"}"#;
        let mut input = Vec::new();
        input.extend(framed("{not json"));
        input.extend(framed(r#"{"id":3,"foo":1}"#));
        input.extend(b"Content-Length: x\r\n\r\n");
        input.extend(b"\xff\xfe garbage\r\n\r\n");
        input.extend(framed("\u{0}\u{1}"));
        input.extend(framed(good));
        let (forwarded, answers) = answers_to(&input).await;
        assert_eq!(forwarded, framed(good));
        let codes: Vec<_> = answers.iter().map(|a| a["error"]["code"].clone()).collect();
        assert_eq!(codes, [-32700, -32600, -32700, -32700, -32700]);
        assert_eq!(answers[1]["id"], 3);
        assert!(answers.iter().all(|a| a["jsonrpc"] == "2.0"));
    }

    #[tokio::test]
    async fn a_message_over_the_limit_is_skipped_unread() {
        let good = r#"{"jsonrpc":"2.0","method":"exit"}"#;
        let mut input = format!("Content-Length: {}\r\n\r\n", MAX_MESSAGE + 1).into_bytes();
        input.extend(vec![b' '; MAX_MESSAGE + 1]);
        input.extend(framed(good));
        let (forwarded, answers) = answers_to(&input).await;
        assert_eq!(forwarded, framed(good));
        assert_eq!(answers.len(), 1);
        assert_eq!(answers[0]["error"]["code"], -32600);
    }
}
