//! A real SMTP server on loopback (mailin-embedded) that records what it receives, so the tests read the
//! emails authd really sent.

use std::io;
use std::net::{SocketAddr, TcpListener};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mail_parser::MessageParser;
use mailin_embedded::response::OK;
use mailin_embedded::{Handler, Response, Server};

/// One received email, decoded.
#[derive(Debug, Clone)]
pub struct Received {
    pub rcpt_to: Vec<String>,
    pub from: String,
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

impl Received {
    /// The token of the reset link in the text part.
    pub fn token(&self) -> String {
        let after = self
            .text
            .split("?token=")
            .nth(1)
            .expect("a reset link in the text part");
        after.split_whitespace().next().unwrap().to_owned()
    }
}

#[derive(Clone, Default)]
struct Recorder {
    received: Arc<Mutex<Vec<Vec<u8>>>>,
    rcpt: Arc<Mutex<Vec<Vec<String>>>>,
    current: Vec<u8>,
    current_rcpt: Vec<String>,
}

impl Handler for Recorder {
    fn data_start(&mut self, _domain: &str, _from: &str, _is8bit: bool, to: &[String]) -> Response {
        self.current.clear();
        self.current_rcpt = to.to_vec();
        OK
    }

    fn data(&mut self, buf: &[u8]) -> io::Result<()> {
        self.current.extend_from_slice(buf);
        Ok(())
    }

    fn data_end(&mut self) -> Response {
        self.received
            .lock()
            .unwrap()
            .push(std::mem::take(&mut self.current));
        self.rcpt
            .lock()
            .unwrap()
            .push(std::mem::take(&mut self.current_rcpt));
        OK
    }
}

/// A running server. mailin has no shutdown: its thread lives until the test process ends.
pub struct SmtpServer {
    pub addr: SocketAddr,
    recorder: Recorder,
}

impl SmtpServer {
    /// A server on a free port.
    pub fn start() -> Self {
        Self::start_on(TcpListener::bind("127.0.0.1:0").unwrap())
    }

    /// A server on `port` (for a server that "comes back" where one was expected).
    pub fn start_on_port(port: u16) -> Self {
        Self::start_on(TcpListener::bind(("127.0.0.1", port)).unwrap())
    }

    fn start_on(listener: TcpListener) -> Self {
        let addr = listener.local_addr().unwrap();
        let recorder = Recorder::default();
        let mut server = Server::new(recorder.clone());
        server.with_tcp_listener(listener);
        std::thread::spawn(move || {
            let _ = server.serve();
        });
        Self { addr, recorder }
    }

    /// Everything received so far, decoded.
    pub fn received(&self) -> Vec<Received> {
        let raw = self.recorder.received.lock().unwrap().clone();
        let rcpt = self.recorder.rcpt.lock().unwrap().clone();
        raw.iter()
            .zip(rcpt)
            .map(|(raw, rcpt_to)| decode(raw, rcpt_to))
            .collect()
    }

    /// Waits (up to ten seconds) until `n` emails have arrived.
    pub async fn wait_for(&self, n: usize) -> Vec<Received> {
        for _ in 0..200 {
            let received = self.received();
            if received.len() >= n {
                return received;
            }
            actix_web::rt::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("expected {n} emails, got {}", self.received().len());
    }
}

/// A loopback port with nothing listening on it (a mail server that is down).
pub fn closed_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn decode(raw: &[u8], rcpt_to: Vec<String>) -> Received {
    let message = MessageParser::default()
        .parse(raw)
        .expect("a parsable message");
    let address = |list: Option<&mail_parser::Address>| {
        list.and_then(|a| a.first())
            .and_then(|a| a.address())
            .unwrap_or_default()
            .to_owned()
    };
    Received {
        rcpt_to,
        from: address(message.from()),
        to: address(message.to()),
        subject: message.subject().unwrap_or_default().to_owned(),
        text: part(message.text_part(0), false),
        html: part(message.html_part(0), true),
    }
}

/// The decoded contents of a body part, checking it is the real thing and not a conversion of the other.
fn part(part: Option<&mail_parser::MessagePart<'_>>, html: bool) -> String {
    let part = part.expect("the body part exists");
    assert_eq!(
        part.is_text_html(),
        html,
        "expected a {} part",
        if html { "text/html" } else { "text/plain" }
    );
    part.text_contents().expect("a text body").to_owned()
}
