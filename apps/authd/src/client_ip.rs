//! The client's IP address, for rate limits: the peer address, or, when the peer is a trusted proxy, the
//! nearest untrusted address in `X-Forwarded-For` (so a client cannot forge its way out of a limit).

use std::net::IpAddr;

use actix_web::HttpRequest;
use actix_web::http::header;
use authd_kernel::Client;
use ipnet::IpNet;

/// Who is calling: the client address (as [`client_ip`] resolves it) and its `User-Agent`.
pub fn client(req: &HttpRequest, trusted: &[IpNet]) -> Client {
    let user_agent = req
        .headers()
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok());
    Client::new(client_ip(req, trusted), user_agent)
}

/// Resolves the client address of a request given the trusted proxies.
pub fn client_ip(req: &HttpRequest, trusted: &[IpNet]) -> Option<IpAddr> {
    let peer = req.peer_addr()?.ip();
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return Some(peer);
    }
    let forwarded: Vec<IpAddr> = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(forwarded_hop)
        .collect();
    // Walk from the proxy nearest to us outwards; the first hop we do not trust is the client.
    Some(
        forwarded
            .iter()
            .rev()
            .find(|ip| !is_trusted(ip))
            .or(forwarded.first())
            .copied()
            .unwrap_or(peer),
    )
}

/// One hop of `X-Forwarded-For`: an address, with or without a port (`203.0.113.9:51000`,
/// `[2001:db8::1]:443`) or brackets (`[2001:db8::1]`), as proxies write them.
fn forwarded_hop(part: &str) -> Option<IpAddr> {
    let part = part.trim();
    part.parse::<IpAddr>()
        .ok()
        .or_else(|| part.parse::<std::net::SocketAddr>().ok().map(|a| a.ip()))
        .or_else(|| {
            part.strip_prefix('[')
                .and_then(|p| p.strip_suffix(']'))
                .and_then(|p| p.parse().ok())
        })
}

/// The calling client as an extractor, for handlers that need nothing else of the request.
#[derive(Debug, Clone)]
pub struct RequestClient(pub Client);

impl actix_web::FromRequest for RequestClient {
    type Error = actix_web::Error;
    type Future = std::future::Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let trusted = req
            .app_data::<actix_web::web::Data<crate::state::AppState>>()
            .map(|state| state.web.trusted_proxies.clone())
            .unwrap_or_default();
        std::future::ready(Ok(Self(client(req, &trusted))))
    }
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    fn nets(raw: &[&str]) -> Vec<IpNet> {
        raw.iter().map(|n| n.parse().unwrap()).collect()
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_forwards() {
        let req = TestRequest::default()
            .peer_addr("203.0.113.9:5000".parse().unwrap())
            .insert_header(("x-forwarded-for", "1.2.3.4"))
            .to_http_request();
        assert_eq!(
            client_ip(&req, &nets(&["10.0.0.0/8"])),
            Some("203.0.113.9".parse().unwrap())
        );
    }

    #[test]
    fn behind_trusted_proxies_the_nearest_untrusted_hop_is_the_client() {
        let req = TestRequest::default()
            .peer_addr("10.0.0.2:5000".parse().unwrap())
            .insert_header(("x-forwarded-for", "6.6.6.6, 198.51.100.7, 10.0.0.1"))
            .to_http_request();
        assert_eq!(
            client_ip(&req, &nets(&["10.0.0.0/8"])),
            Some("198.51.100.7".parse().unwrap())
        );
    }

    #[test]
    fn forwarded_hops_with_ports_or_brackets_are_understood() {
        for (hop, ip) in [
            ("198.51.100.7", "198.51.100.7"),
            (" 198.51.100.7:51000 ", "198.51.100.7"),
            ("[2001:db8::1]:443", "2001:db8::1"),
            ("[2001:db8::1]", "2001:db8::1"),
            ("2001:db8::1", "2001:db8::1"),
        ] {
            assert_eq!(forwarded_hop(hop), Some(ip.parse().unwrap()), "{hop}");
        }
        assert_eq!(forwarded_hop("unknown"), None);
        assert_eq!(forwarded_hop("[not-an-ip]"), None);
        let req = TestRequest::default()
            .peer_addr("10.0.0.2:5000".parse().unwrap())
            .insert_header(("x-forwarded-for", "[2001:db8::7]:443, 10.0.0.1:8080"))
            .to_http_request();
        assert_eq!(
            client_ip(&req, &nets(&["10.0.0.0/8"])),
            Some("2001:db8::7".parse().unwrap())
        );
    }

    #[test]
    fn a_trusted_peer_without_forwarding_is_itself() {
        let req = TestRequest::default()
            .peer_addr("10.0.0.2:5000".parse().unwrap())
            .to_http_request();
        assert_eq!(
            client_ip(&req, &nets(&["10.0.0.0/8"])),
            Some("10.0.0.2".parse().unwrap())
        );
    }
}
