//! One order (RFC 8555 §7.4): the account (made once per CA and stored), the challenges' answers
//! put in the store for whichever node the CA reaches, the wait for validation, the CSR and the
//! certificate. The answers are removed again whatever the outcome.

use std::time::Duration;

use instant_acme::{
    Account, AccountCredentials, AuthorizationStatus, Identifier, NewAccount, NewOrder,
    OrderStatus, RetryPolicy,
};

use crate::cert::Stored;
use crate::client::Http;
use crate::{Challenge, Config, Error, Store};

/// How long the CA may take to validate the challenges, and to issue.
const VALIDATION: RetryPolicy = RetryPolicy::new()
    .initial_delay(Duration::from_millis(500))
    .backoff(1.5)
    .timeout(Duration::from_secs(120));

/// Store keys (the prefix keeps them apart from anything else in the store).
pub(crate) mod keys {
    /// The account on the CA whose directory is `directory`.
    pub(crate) fn account(directory: &str) -> String {
        format!("acme:account:{directory}")
    }
    /// The certificate for `names` (the domains, comma-separated).
    pub(crate) fn certificate(names: &str) -> String {
        format!("acme:cert:{names}")
    }
    /// The cluster's count of failed orders for `names`, and when the next may start.
    pub(crate) fn backoff(names: &str) -> String {
        format!("acme:backoff:{names}")
    }
    /// The lease of the node ordering for `names`.
    pub(crate) fn lease(names: &str) -> String {
        format!("acme:lease:{names}")
    }
    /// The HTTP-01 answer for `token`.
    pub(crate) fn http01(token: &str) -> String {
        format!("acme:http-01:{token}")
    }
    /// The TLS-ALPN-01 key authorization for `domain`.
    pub(crate) fn tls_alpn01(domain: &str) -> String {
        format!("acme:tls-alpn-01:{domain}")
    }
}

/// The account for `cfg.directory`: restored from the store, or registered (and stored).
async fn account<S: Store>(cfg: &Config, store: &S) -> Result<Account, Error> {
    let http = || Http::new(cfg.ca_roots.as_deref()).map(Box::new);
    let key = keys::account(&cfg.directory);
    if let Some(json) = store.get(&key).await.map_err(Error::Store)? {
        match serde_json::from_str::<AccountCredentials>(&json) {
            Ok(creds) => {
                return Ok(Account::builder_with_http(http()?)
                    .from_credentials(creds)
                    .await?)
            }
            Err(e) => {
                tracing::warn!(error = %e, "the stored ACME account does not parse: registering a new one")
            }
        }
    }
    let contact = cfg.contact.as_ref().map(|c| format!("mailto:{c}"));
    let contacts: Vec<&str> = contact.iter().map(String::as_str).collect();
    let (account, creds) = Account::builder_with_http(http()?)
        .create(
            &NewAccount {
                contact: &contacts,
                terms_of_service_agreed: true,
                only_return_existing: false,
            },
            cfg.directory.clone(),
            None,
        )
        .await?;
    let json = serde_json::to_string(&creds)
        .map_err(|e| Error::Store(format!("cannot serialize the ACME account: {e}")))?;
    store.put(&key, &json, true).await.map_err(Error::Store)?;
    tracing::info!(directory = %cfg.directory, "registered an ACME account");
    Ok(account)
}

/// Orders a certificate for `cfg.domains` proved by `challenge`.
pub(crate) async fn order<S: Store>(
    cfg: &Config,
    store: &S,
    challenge: Challenge,
) -> Result<Stored, Error> {
    let account = account(cfg, store).await?;
    let identifiers: Vec<Identifier> = cfg.domains.iter().cloned().map(Identifier::Dns).collect();
    let mut order = account.new_order(&NewOrder::new(&identifiers)).await?;
    let mut answers = Vec::new();
    let result = prove_and_finalize(&mut order, store, challenge, &mut answers).await;
    for key in answers {
        if let Err(e) = store.delete(&key).await {
            tracing::warn!(key, error = %e, "cannot remove an ACME challenge answer");
        }
    }
    result
}

async fn prove_and_finalize<S: Store>(
    order: &mut instant_acme::Order,
    store: &S,
    challenge: Challenge,
    answers: &mut Vec<String>,
) -> Result<Stored, Error> {
    let mut authorizations = order.authorizations();
    while let Some(authorization) = authorizations.next().await {
        let mut authorization = authorization?;
        match authorization.status {
            AuthorizationStatus::Pending => {}
            AuthorizationStatus::Valid => continue,
            other => {
                return Err(Error::Challenge(format!(
                    "the authorization of {} is {other:?}",
                    authorization.identifier()
                )))
            }
        }
        let domain = authorization.identifier().to_string();
        let Some(mut handle) = authorization.challenge(challenge.acme()) else {
            return Err(Error::Challenge(format!(
                "the CA offers no {challenge:?} challenge for {domain}"
            )));
        };
        let key_authorization = handle.key_authorization();
        let key = match challenge {
            Challenge::Http01 => keys::http01(&handle.token),
            Challenge::TlsAlpn01 => keys::tls_alpn01(&domain),
        };
        store
            .put(&key, key_authorization.as_str(), false)
            .await
            .map_err(Error::Store)?;
        answers.push(key);
        handle.set_ready().await?;
    }
    match order.poll_ready(&VALIDATION).await? {
        OrderStatus::Ready => {}
        status => return Err(Error::Challenge(refusal(order, status).await)),
    }
    let key = order.finalize().await?;
    let chain = order.poll_certificate(&VALIDATION).await?;
    Ok(Stored { chain, key })
}

/// What the CA said about the authorizations of a failed order.
async fn refusal(order: &mut instant_acme::Order, status: OrderStatus) -> String {
    let mut reasons = Vec::new();
    let mut authorizations = order.authorizations();
    while let Some(Ok(authorization)) = authorizations.next().await {
        for c in &authorization.challenges {
            if let Some(e) = &c.error {
                reasons.push(format!("{}: {e}", authorization.identifier()));
            }
        }
    }
    if reasons.is_empty() {
        format!("the order is {status:?}")
    } else {
        reasons.join("; ")
    }
}
