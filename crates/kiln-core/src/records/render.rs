//! Records as API responses show them: expanded, projected and written as JSON bytes. Shared by
//! the HTTP handlers and realtime messages.

use crate::records::expand::ExpandTree;

use crate::records::fields::Fields;

use crate::app::App;
use crate::error::Result;
use crate::records::model::Record;
use crate::request::RequestInfo;

/// What a response asks of its records (`expand` and `fields` query parameters).
#[derive(Debug, Default, Clone)]
pub struct RenderOptions {
    pub expand: Option<ExpandTree>,
    pub fields: Option<Fields>,
}

impl RenderOptions {
    /// Options from the query parameters; malformed `fields` modifiers are ignored (realtime).
    pub fn new(expand: Option<&str>, fields: Option<&str>) -> Self {
        RenderOptions {
            expand: expand.map(ExpandTree::parse).filter(|t| !t.is_empty()),
            fields: fields.and_then(Fields::parse),
        }
    }

    /// Options from a request's query parameters; a malformed `fields` is an error.
    pub fn from_query(expand: Option<&str>, fields: Option<&str>) -> Result<Self> {
        let fields = match fields {
            Some(f) => Fields::try_parse(f).map_err(crate::error::CoreError::BadQuery)?,
            None => None,
        };
        Ok(RenderOptions {
            expand: expand.map(ExpandTree::parse).filter(|t| !t.is_empty()),
            fields,
        })
    }
}

impl App {
    /// Expands `records` for `req` and writes them comma-separated to `out`. Without a `fields`
    /// projection records are written straight to bytes.
    pub fn write_records(
        &self,
        records: &mut [Record],
        req: &RequestInfo,
        opts: &RenderOptions,
        out: &mut Vec<u8>,
    ) -> Result<()> {
        if let Some(tree) = &opts.expand {
            self.expand_records(records, tree, req)?;
        }
        let viewer = req.viewer();
        let d = self.dialect();
        for (i, r) in records.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            match &opts.fields {
                None => r.write_json(out, d, &viewer),
                Some(f) => {
                    let mut v = r.to_json(d, &viewer);
                    f.apply(&mut v);
                    let _ = serde_json::to_writer(&mut *out, &v);
                }
            }
        }
        Ok(())
    }
}
