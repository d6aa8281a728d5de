//! Who is on the other end of a request, as far as the service can tell.

use std::net::IpAddr;

/// The longest user agent kept, in characters: enough to tell browsers apart, too short to store abuse.
pub const MAX_USER_AGENT_CHARS: usize = 256;

/// The client a session was signed in, refreshed or re-authenticated from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Client {
    /// Its IP address (behind trusted proxies, the forwarded one), if known.
    pub ip: Option<IpAddr>,
    /// Its `User-Agent`, trimmed, without control characters and bounded, if it sent one.
    pub user_agent: Option<String>,
}

impl Client {
    /// A client from what the request says; the user agent is cleaned and bounded.
    pub fn new(ip: Option<IpAddr>, user_agent: Option<&str>) -> Self {
        let user_agent = user_agent
            .map(|ua| {
                ua.trim()
                    .chars()
                    .filter(|c| !c.is_control())
                    .take(MAX_USER_AGENT_CHARS)
                    .collect::<String>()
            })
            .filter(|ua| !ua.is_empty());
        Self { ip, user_agent }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_agents_are_trimmed_cleaned_bounded_and_dropped_when_empty() {
        assert_eq!(Client::new(None, Some("  ")).user_agent, None);
        assert_eq!(
            Client::new(None, Some(" Firefox\n/1 "))
                .user_agent
                .as_deref(),
            Some("Firefox/1")
        );
        let long = "x".repeat(1000);
        assert_eq!(
            Client::new(None, Some(&long)).user_agent.map(|ua| ua.len()),
            Some(MAX_USER_AGENT_CHARS)
        );
    }
}
