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

/// One kept-alive HTTP/1.1 connection, for a client that sends request after request (the
/// dispatch bench's coordinators): no TCP set-up per request, and no sockets left in
/// TIME_WAIT by the thousand. Answers are read by their Content-Length.
pub struct KeepAlive {
    address: SocketAddr,
    stream: tokio::io::BufReader<TcpStream>,
}

impl KeepAlive {
    pub async fn connect(address: SocketAddr) -> anyhow::Result<KeepAlive> {
        let stream = TcpStream::connect(address).await?;
        stream.set_nodelay(true)?;
        Ok(KeepAlive {
            address,
            stream: tokio::io::BufReader::new(stream),
        })
    }

    pub async fn post_json(
        &mut self,
        path: &str,
        token: Option<&str>,
        body: &serde_json::Value,
    ) -> anyhow::Result<Response> {
        use tokio::io::AsyncBufReadExt;
        let body = body.to_string();
        let mut head = format!(
            "POST {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n",
            self.address,
            body.len()
        );
        if let Some(token) = token {
            head.push_str(&format!("Authorization: Bearer {token}\r\n"));
        }
        head.push_str("\r\n");
        head.push_str(&body);
        let exchange = async {
            self.stream.get_mut().write_all(head.as_bytes()).await?;
            let mut status = 0;
            let mut length = 0usize;
            let mut line = String::new();
            loop {
                line.clear();
                if self.stream.read_line(&mut line).await? == 0 {
                    bail!("the server closed the connection");
                }
                let trimmed = line.trim_end();
                if trimmed.is_empty() {
                    break;
                }
                if status == 0 {
                    status = trimmed
                        .split_whitespace()
                        .nth(1)
                        .and_then(|s| s.parse().ok())
                        .context("no status code")?;
                } else if let Some((name, value)) = trimmed.split_once(':')
                    && name.eq_ignore_ascii_case("content-length")
                {
                    length = value.trim().parse().context("bad Content-Length")?;
                }
            }
            let mut raw = vec![0; length];
            self.stream.read_exact(&mut raw).await?;
            anyhow::Ok(Response {
                status,
                body: String::from_utf8_lossy(&raw).into_owned(),
            })
        };
        tokio::time::timeout(TIMEOUT, exchange)
            .await
            .with_context(|| format!("POST {path}: no answer within {TIMEOUT:?}"))?
            .with_context(|| format!("POST {path}"))
    }
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
