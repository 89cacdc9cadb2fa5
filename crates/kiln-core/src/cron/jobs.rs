//! The table of cron jobs: what runs when.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, RwLock};

use serde::Serialize;

use super::schedule::Schedule;

/// A job's work.
/// `C` is what a job is handed when it runs (the app: generic so that the table does not
/// depend on the app that holds it).
pub(crate) type Run<C> = Arc<dyn Fn(C) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync>;

pub(super) struct Job<C> {
    pub(super) id: String,
    pub(super) expression: String,
    pub(super) schedule: Schedule,
    pub(super) run: Run<C>,
}

impl<C> Clone for Job<C> {
    fn clone(&self) -> Self {
        Job {
            id: self.id.clone(),
            expression: self.expression.clone(),
            schedule: self.schedule.clone(),
            run: self.run.clone(),
        }
    }
}

/// The registered jobs.
pub(crate) struct Crons<C> {
    jobs: RwLock<Vec<Job<C>>>,
}

impl<C> Default for Crons<C> {
    fn default() -> Self {
        Crons {
            jobs: RwLock::new(Vec::new()),
        }
    }
}

/// A job as the API lists it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct CronJob {
    pub id: String,
    pub expression: String,
}

impl<C> Crons<C> {
    /// Adds the job `id` (replacing one of that id) run at `expression`.
    pub(crate) fn add(&self, id: &str, expression: &str, run: Run<C>) -> Result<(), String> {
        let schedule = Schedule::parse(expression)?;
        let job = Job {
            id: id.to_owned(),
            expression: expression.to_owned(),
            schedule,
            run,
        };
        let mut jobs = self.jobs.write().unwrap_or_else(|p| p.into_inner());
        match jobs.iter_mut().find(|j| j.id == id) {
            Some(j) => *j = job,
            None => jobs.push(job),
        }
        Ok(())
    }

    pub(crate) fn remove(&self, id: &str) {
        self.jobs
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|j| j.id != id);
    }

    pub(super) fn snapshot(&self) -> Vec<Job<C>> {
        self.jobs.read().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

/// Wraps an async job body as a [`Run`].
pub(crate) fn run<C, F, Fut>(f: F) -> Run<C>
where
    F: Fn(C) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    Arc::new(move |app| Box::pin(f(app)))
}
