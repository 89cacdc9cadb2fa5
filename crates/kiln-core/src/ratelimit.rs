//! Rate limiting with PocketBase's settings shape: a request carries labels, most specific
//! first (`users:authWithPassword`, `*:authWithPassword`, `users:auth`, `*:auth`,
//! `POST /api/collections/users/auth-with-password`, then path prefixes such as `/api/`); the
//! first label with a rule for the request's audience decides. Each (rule, client IP) pair gets
//! a fixed window of `duration` seconds allowing `maxRequests`.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::net::ip_in;
use crate::settings::model::{RateLimitRule, RateLimits};

/// Windows a shard keeps before its first sweep of expired ones (later sweeps wait until the
/// live windows have doubled, so sweeping costs O(1) per request amortized).
const FIRST_SWEEP: usize = 10_000;

#[derive(Debug, Clone, Copy)]
struct Window {
    started: Instant,
    /// When the window ends (after that it only restarts).
    until: Instant,
    count: i64,
}

/// The windows of the IPs hashed to one shard.
#[derive(Default)]
struct Shard {
    windows: HashMap<(String, String), Window>,
    sweep_at: usize,
}

/// The limiter: windows in this process's memory, or — when nodes share a PostgreSQL database —
/// in the database, so that a limit holds for the cluster (falling back to memory while the
/// database cannot count).
#[derive(Default)]
pub struct RateLimiter {
    shards: [Mutex<Shard>; 8],
    shared: std::sync::OnceLock<kiln_db::Db>,
}

/// A request over its limit: retry after this many seconds (at least 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limited {
    pub retry_after_secs: u64,
}

/// Finds the rule for the first label that has one: a rule for the exact audience
/// (`@guest`/`@auth`) wins over an audience-less rule of the same label. A label ending in `/`
/// in the settings matches every path under it.
pub fn find_rule<'a>(
    limits: &'a RateLimits,
    labels: &[&str],
    path: &str,
    authenticated: bool,
) -> Option<&'a RateLimitRule> {
    let audience = if authenticated { "@auth" } else { "@guest" };
    let pick = |matches: &dyn Fn(&RateLimitRule) -> bool| {
        let mut fallback = None;
        for r in limits.rules.iter().filter(|r| matches(r)) {
            if r.audience == audience {
                return Some(r);
            }
            if r.audience.is_empty() && fallback.is_none() {
                fallback = Some(r);
            }
        }
        fallback
    };
    for label in labels {
        if let Some(r) = pick(&|r: &RateLimitRule| r.label == *label) {
            return Some(r);
        }
    }
    // Path prefix rules (`/api/`, `/api/batch`): the longest matching one.
    let mut best: Option<&RateLimitRule> = None;
    for r in &limits.rules {
        let l = r.label.as_str();
        let hit = l.starts_with('/') && (path == l || (l.ends_with('/') && path.starts_with(l)));
        if hit && (r.audience.is_empty() || r.audience == audience) {
            let better = match best {
                None => true,
                Some(b) => {
                    l.len() > b.label.len() || (l.len() == b.label.len() && r.audience == audience)
                }
            };
            if better {
                best = Some(r);
            }
        }
    }
    best
}

impl RateLimiter {
    /// Counts the request and says whether it is over the limit. `labels` are the request's
    /// action labels, most specific first; `path` its URL path.
    /// `scope` separates counters that share a rule (PocketBase counts collection routes per
    /// collection and route even under a `*:` rule).
    pub fn check(
        &self,
        limits: &RateLimits,
        labels: &[&str],
        path: &str,
        authenticated: bool,
        ip: Option<std::net::IpAddr>,
        scope: &str,
    ) -> Result<(), Limited> {
        if !limits.enabled || ip_in(&limits.excluded_ips, ip) {
            return Ok(());
        }
        let Some(rule) = find_rule(limits, labels, path, authenticated) else {
            return Ok(());
        };
        let ip = ip.map(|ip| ip.to_string()).unwrap_or_default();
        if scope.is_empty() {
            return self.hit(rule, &ip, Instant::now());
        }
        let scoped = RateLimitRule {
            label: format!("{scope}|{}", rule.label),
            ..rule.clone()
        };
        self.hit(&scoped, &ip, Instant::now())
    }

    /// Counts one request of `ip` in a fixed window of `duration_secs` allowing `max` (for
    /// built-in limits such as OTP attempts, on whatever the settings say).
    pub fn consume(
        &self,
        bucket: &str,
        ip: &str,
        duration_secs: i64,
        max: i64,
    ) -> Result<(), Limited> {
        let rule = RateLimitRule {
            label: bucket.to_owned(),
            audience: String::new(),
            duration: duration_secs,
            max_requests: max,
        };
        self.hit(&rule, ip, Instant::now())
    }

    /// Counts in `db`'s shared windows from now on (nodes sharing a database).
    pub(crate) fn share(&self, db: kiln_db::Db) {
        let _ = self.shared.set(db);
    }

    /// Forgets every window (after a settings change, as PocketBase does).
    pub fn reset(&self) {
        for s in &self.shards {
            s.lock().unwrap_or_else(|p| p.into_inner()).windows.clear();
        }
        if let Some(shared) = self.shared.get().and_then(kiln_db::Db::shared) {
            if let Err(e) = shared.windows_clear(None) {
                tracing::warn!(error = %e, "cannot reset the shared rate limit windows");
            }
        }
    }

    fn hit(&self, rule: &RateLimitRule, ip: &str, now: Instant) -> Result<(), Limited> {
        let window = Duration::from_secs(rule.duration.max(1) as u64);
        if let Some(shared) = self.shared.get().and_then(kiln_db::Db::shared) {
            let now_ms = crate::datetime::now_ms();
            let window_ms = window.as_millis() as i64;
            let key = format!("{}|{}|{ip}", rule.label, rule.audience);
            match shared.window_hit(&key, now_ms, window_ms) {
                Ok((started, hits)) if hits > rule.max_requests => {
                    let left_ms = (started + window_ms - now_ms).max(0);
                    return Err(Limited {
                        retry_after_secs: ((left_ms + 999) / 1000).max(1) as u64,
                    });
                }
                Ok(_) => return Ok(()),
                Err(e) => {
                    tracing::warn!(error = %e, "shared rate limit unavailable: counting on this node")
                }
            }
        }
        let key = (format!("{}|{}", rule.label, rule.audience), ip.to_owned());
        let shard = &self.shards[(crc32fast::hash(ip.as_bytes()) % 8) as usize];
        let mut shard = shard.lock().unwrap_or_else(|p| p.into_inner());
        if shard.windows.len() >= shard.sweep_at.max(FIRST_SWEEP) {
            shard.windows.retain(|_, w| w.until > now);
            shard.sweep_at = shard.windows.len() * 2;
        }
        let w = shard.windows.entry(key).or_insert(Window {
            started: now,
            until: now + window,
            count: 0,
        });
        if now.duration_since(w.started) >= window {
            *w = Window {
                started: now,
                until: now + window,
                count: 0,
            };
        }
        if w.count >= rule.max_requests {
            let left = window.saturating_sub(now.duration_since(w.started));
            return Err(Limited {
                retry_after_secs: left.as_secs_f64().ceil().max(1.0) as u64,
            });
        }
        w.count += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(rules: &[(&str, &str, i64, i64)]) -> RateLimits {
        RateLimits {
            rules: rules
                .iter()
                .map(|(l, a, d, m)| RateLimitRule {
                    label: (*l).into(),
                    audience: (*a).into(),
                    duration: *d,
                    max_requests: *m,
                })
                .collect(),
            excluded_ips: vec![],
            enabled: true,
        }
    }

    #[test]
    fn most_specific_label_and_audience_win() {
        let l = limits(&[
            ("/api/", "", 10, 300),
            ("*:auth", "", 3, 2),
            ("users:auth", "@guest", 3, 1),
            ("users:auth", "", 3, 5),
        ]);
        let labels = [
            "users:authWithPassword",
            "*:authWithPassword",
            "users:auth",
            "*:auth",
        ];
        assert_eq!(
            find_rule(
                &l,
                &labels,
                "/api/collections/users/auth-with-password",
                false
            )
            .unwrap()
            .max_requests,
            1
        );
        assert_eq!(
            find_rule(
                &l,
                &labels,
                "/api/collections/users/auth-with-password",
                true
            )
            .unwrap()
            .max_requests,
            5
        );
        let other = [
            "posts:authWithPassword",
            "*:authWithPassword",
            "posts:auth",
            "*:auth",
        ];
        assert_eq!(
            find_rule(&l, &other, "/api/x", true).unwrap().max_requests,
            2
        );
        assert_eq!(
            find_rule(
                &l,
                &["posts:list", "*:list"],
                "/api/collections/posts/records",
                false
            )
            .unwrap()
            .max_requests,
            300
        );
        assert!(find_rule(&l, &[], "/_/", false).is_none());
        let exact = limits(&[("/api/batch", "", 1, 3), ("/api/", "", 1, 9)]);
        assert_eq!(
            find_rule(&exact, &[], "/api/batch", false)
                .unwrap()
                .max_requests,
            3
        );
        assert_eq!(
            find_rule(&exact, &[], "/api/batchx", false)
                .unwrap()
                .max_requests,
            9
        );
    }

    #[test]
    fn fixed_window_per_ip() {
        let rl = RateLimiter::default();
        let rule = RateLimitRule {
            label: "*:auth".into(),
            audience: String::new(),
            duration: 3,
            max_requests: 2,
        };
        let t0 = Instant::now();
        assert!(rl.hit(&rule, "1.1.1.1", t0).is_ok());
        assert!(rl.hit(&rule, "1.1.1.1", t0).is_ok());
        assert_eq!(
            rl.hit(&rule, "1.1.1.1", t0 + Duration::from_millis(500)),
            Err(Limited {
                retry_after_secs: 3
            })
        );
        assert!(
            rl.hit(&rule, "2.2.2.2", t0).is_ok(),
            "another IP has its own window"
        );
        assert!(
            rl.hit(&rule, "1.1.1.1", t0 + Duration::from_secs(3))
                .is_ok(),
            "a new window"
        );
    }

    #[test]
    fn disabled_and_excluded() {
        let rl = RateLimiter::default();
        let mut l = limits(&[("*:auth", "", 60, 1)]);
        l.excluded_ips = vec!["10.0.0.0/8".into(), "::1".into()];
        for _ in 0..3 {
            assert!(rl
                .check(
                    &l,
                    &["*:auth"],
                    "/",
                    false,
                    Some("10.1.2.3".parse().unwrap()),
                    ""
                )
                .is_ok());
            assert!(rl
                .check(
                    &l,
                    &["*:auth"],
                    "/",
                    false,
                    Some("::1".parse().unwrap()),
                    ""
                )
                .is_ok());
        }
        assert!(rl
            .check(
                &l,
                &["*:auth"],
                "/",
                false,
                Some("11.0.0.1".parse().unwrap()),
                ""
            )
            .is_ok());
        assert!(rl
            .check(
                &l,
                &["*:auth"],
                "/",
                false,
                Some("11.0.0.1".parse().unwrap()),
                ""
            )
            .is_err());
        l.enabled = false;
        assert!(rl
            .check(
                &l,
                &["*:auth"],
                "/",
                false,
                Some("11.0.0.1".parse().unwrap()),
                ""
            )
            .is_ok());
    }
}
