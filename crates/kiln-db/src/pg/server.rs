//! How to reach the PostgreSQL server.

use super::tls;

/// How to reach the server: the driver's configuration and the TLS connector (`None`: plain).
#[derive(Clone)]
pub(crate) struct Server {
    pub(super) config: postgres::Config,
    pub(super) tls: Option<tls::MakeTls>,
}

impl Server {
    pub(crate) fn connect(&self) -> Result<postgres::Client, postgres::Error> {
        match &self.tls {
            Some(tls) => self.config.connect(tls.clone()),
            None => self.config.connect(postgres::NoTls),
        }
    }
}
