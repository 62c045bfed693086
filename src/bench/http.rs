//! Just enough HTTP/1.1 for the bench: one request per connection (`Connection: close`),
//! response read to its end. The bench makes a few hundred requests in all, so a client
//! library (and the dependency it would add to the server binary) buys nothing; and a fresh
//! connection per request keeps one slow response from delaying the next post.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{Context, bail};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Generous: when posts come faster than the server fans them out, they queue, and how long
/// they wait is one of the figures. Only a server that stopped answering takes this long.
const TIMEOUT: Duration = Duration::from_secs(120);

pub struct Response {
    pub status: u16,
    pub body: String,
}

pub async fn get(address: SocketAddr, path: &str) -> anyhow::Result<Response> {
    request(address, "GET", path, None, None).await
}

/// POSTs a JSON body, with a bearer token when given.
pub async fn post_json(
    address: SocketAddr,
    path: &str,
    token: Option<&str>,
    body: &serde_json::Value,
) -> anyhow::Result<Response> {
    request(address, "POST", path, token, Some(&body.to_string())).await
}

async fn request(
    address: SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&str>,
) -> anyhow::Result<Response> {
    let exchange = async {
        let mut stream = TcpStream::connect(address).await?;
        stream.set_nodelay(true)?;
        let mut head =
            format!("{method} {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n");
        if let Some(token) = token {
            head.push_str(&format!("Authorization: Bearer {token}\r\n"));
        }
        let body = body.unwrap_or_default();
        if method != "GET" {
            head.push_str(&format!(
                "Content-Type: application/json\r\nContent-Length: {}\r\n",
                body.len()
            ));
        }
        head.push_str("\r\n");
        head.push_str(body);
        stream.write_all(head.as_bytes()).await?;
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).await?;
        anyhow::Ok(raw)
    };
    let raw = tokio::time::timeout(TIMEOUT, exchange)
        .await
        .with_context(|| format!("{method} {path}: no answer within {TIMEOUT:?}"))?
        .with_context(|| format!("{method} {path}"))?;
    parse(&raw).with_context(|| format!("{method} {path}: unreadable answer"))
}

fn parse(raw: &[u8]) -> anyhow::Result<Response> {
    let text = String::from_utf8_lossy(raw);
    let Some((head, body)) = text.split_once("\r\n\r\n") else {
        bail!("no end of headers in {} bytes", raw.len());
    };
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .context("no status code")?;
    if head.lines().any(|l| {
        l.to_ascii_lowercase()
            .starts_with("transfer-encoding: chunked")
    }) {
        bail!("chunked answers are not supported");
    }
    Ok(Response {
        status,
        body: body.to_string(),
    })
}
