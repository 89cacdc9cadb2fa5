//! How to reach the PostgreSQL server.

use super::tls;

/// How to reach the server: the driver's configuration and the TLS connector (`None`: plain).
#[derive(Clone)]
pub(crate) struct Server {
    pub(super) config: postgres::Config,
    pub(super) tls: Option<tls::MakeTls>,
}

impl Server {
    /// How long opening a connection may take (also the bound of a liveness check).
    pub(crate) fn connect_timeout(&self) -> std::time::Duration {
        self.config
            .get_connect_timeout()
            .copied()
            .unwrap_or(std::time::Duration::from_secs(5))
    }

    pub(crate) fn connect(&self) -> Result<postgres::Client, postgres::Error> {
        match &self.tls {
            Some(tls) => self.config.connect(tls.clone()),
            None => self.config.connect(postgres::NoTls),
        }
    }
}
