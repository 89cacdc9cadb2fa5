//! Records: the rows of collections, read and written under API rules.

pub mod batch;
mod count;
pub mod excerpt;
pub mod expand;
pub mod fields;
pub(crate) mod list_cache;
pub mod model;
pub mod query;
pub mod render;
pub mod values;
pub mod write;

pub use batch::{BatchAction, BatchError, BatchWrite};
pub use expand::ExpandTree;
pub use fields::Fields;
pub use model::{Record, Viewer};
pub use query::{ListParams, ListResult, RuleKind};
pub use render::RenderOptions;
