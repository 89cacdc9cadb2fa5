//! IP addresses and CIDR ranges, as the settings list them (`superuserIPs`, the rate limiter's
//! `excludedIPs`).

/// Whether an address is on the public internet: what server-side fetches may reach outside
/// dev mode (see [`crate::App::allows_private_fetch`]).
pub use kiln_oauth2::{checked_address, is_public};

/// An IP address or a CIDR range (`10.0.0.0/8`, `::1`) as (network, prefix length).
pub fn parse_ip_or_cidr(s: &str) -> Option<(std::net::IpAddr, u32)> {
    let (ip, bits) = match s.split_once('/') {
        Some((ip, bits)) => (
            ip.parse::<std::net::IpAddr>().ok()?,
            bits.parse::<u32>().ok()?,
        ),
        None => {
            let ip = s.parse::<std::net::IpAddr>().ok()?;
            (ip, if ip.is_ipv4() { 32 } else { 128 })
        }
    };
    let max = if ip.is_ipv4() { 32 } else { 128 };
    (bits <= max).then_some((ip, bits))
}

/// Whether `ip` is one of `list`'s IPs or inside one of its CIDR ranges.
pub fn ip_in(list: &[String], ip: Option<std::net::IpAddr>) -> bool {
    use std::net::IpAddr;
    let Some(addr) = ip else { return false };
    list.iter()
        .filter_map(|e| parse_ip_or_cidr(e))
        .any(|(net, b)| match (net, addr) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                b == 0 || (u32::from(a) ^ u32::from(n)) >> (32 - b) == 0
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                b == 0 || (u128::from(a) ^ u128::from(n)) >> (128 - b) == 0
            }
            _ => false,
        })
}
