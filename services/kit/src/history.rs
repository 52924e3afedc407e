//! Field-level change history of any record: who changed what, when, from which value to which.
//!
//! A trail is a table of the shape `(id, <record column>, action, fields, changed_by,
//! changed_at)`, `fields` holding the changed fields as JSON. The kit's own trail
//! [`Trail::SHARED`] (`crm_changes`, keyed by `record_id`) serves any service: record ids are
//! UUIDv7, unique across kinds, so one table holds leads', opportunities' and orders' changes
//! alike. A service with a trail of its own from before (customers' `customer_changes`)
//! names it with [`Trail::new`] and uses the same code.
//!
//! Write the change in the same transaction as the change itself ([`Trail::record`], or
//! [`Trail::statement`] to combine it with other statements); read a record's history newest
//! first with [`Trail::page`].

use serde::{Deserialize, Serialize};
use sqlx::AnyConnection;

use crate::db::Migration;
use crate::errors::Result;
use crate::listing::{Direction, Keyset, Order, Page, Position};
use crate::sql::SqlBuf;

/// The kit's shared trail, `crm_changes`.
pub const MIGRATION: Migration = Migration {
    version: 1_000_008,
    name: "kit_field_history",
    sql: "CREATE TABLE IF NOT EXISTS crm_changes (
        id TEXT PRIMARY KEY,
        record_id TEXT NOT NULL,
        action TEXT NOT NULL,
        fields TEXT NOT NULL,
        changed_by TEXT NOT NULL,
        changed_at BIGINT NOT NULL
    );
    CREATE INDEX IF NOT EXISTS crm_changes_record ON crm_changes (record_id, id);",
    only_on: None,
};

/// One field's change, as stored in a trail's `fields`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldChange {
    pub field: String,
    pub old: String,
    pub new: String,
}

/// The fields a change touched, each with its old and new value as displayed text. Fields
/// whose value did not change are left out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changes(Vec<FieldChange>);

impl Changes {
    /// No changes yet.
    pub fn new() -> Changes {
        Changes::default()
    }

    /// Notes `field` going from `old` to `new`, unless they are equal.
    pub fn field(&mut self, field: &str, old: impl Into<String>, new: impl Into<String>) -> &mut Changes {
        let (old, new) = (old.into(), new.into());
        if old != new {
            self.0.push(FieldChange {
                field: field.to_string(),
                old,
                new,
            });
        }
        self
    }

    /// Whether nothing changed.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The changed fields, in the order noted.
    pub fn fields(&self) -> &[FieldChange] {
        &self.0
    }

    /// The JSON stored in a trail's `fields`.
    pub fn to_json(&self) -> String {
        serde_json::to_string(&self.0).unwrap_or_else(|_| "[]".into())
    }

    /// The changes stored as `json` (an unreadable value reads as no fields).
    pub fn from_json(json: &str) -> Changes {
        Changes(serde_json::from_str(json).unwrap_or_default())
    }
}

impl From<&[(&str, String, String)]> for Changes {
    fn from(fields: &[(&str, String, String)]) -> Changes {
        let mut changes = Changes::new();
        for (field, old, new) in fields {
            changes.0.push(FieldChange {
                field: (*field).to_string(),
                old: old.clone(),
                new: new.clone(),
            });
        }
        changes
    }
}

/// The [`Changes`] between two values of a record, comparing the named fields by their
/// displayed text: `changed_fields!(before, after; name, city, status)`.
#[macro_export]
macro_rules! changed_fields {
    ($before:expr, $after:expr; $($field:ident),+ $(,)?) => {{
        let mut changes = $crate::history::Changes::new();
        $(
            changes.field(stringify!($field), $before.$field.to_string(), $after.$field.to_string());
        )+
        changes
    }};
}

/// One stored change.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ChangeRow {
    pub id: String,
    pub record_id: String,
    pub action: String,
    pub fields: String,
    pub changed_by: String,
    pub changed_at: i64,
}

impl ChangeRow {
    /// The changed fields.
    pub fn changes(&self) -> Changes {
        Changes::from_json(&self.fields)
    }

    /// The change on the wire (`crm.common.v1.RecordChange`).
    pub fn to_proto(&self) -> crm_proto::common::RecordChange {
        crm_proto::common::RecordChange {
            id: self.id.clone(),
            record_id: self.record_id.clone(),
            action: self.action.clone(),
            fields: self
                .changes()
                .0
                .into_iter()
                .map(|f| crm_proto::common::FieldChange {
                    field: f.field,
                    old_value: f.old,
                    new_value: f.new,
                })
                .collect(),
            changed_by: self.changed_by.clone(),
            change_time: Some(crate::time::to_proto(self.changed_at)),
        }
    }
}

/// A table of changes (see the module documentation for its shape).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Trail {
    table: &'static str,
    record_column: &'static str,
}

impl Trail {
    /// The kit's shared trail (`crm_changes`, created by [`MIGRATION`]).
    pub const SHARED: Trail = Trail::new("crm_changes", "record_id");

    /// A service's own trail: `table` keyed by `record_column`.
    pub const fn new(table: &'static str, record_column: &'static str) -> Trail {
        Trail { table, record_column }
    }

    /// The table's name.
    pub fn table(&self) -> &'static str {
        self.table
    }

    /// The statement recording that `actor` did `action` (`create`, `update`, `delete`, …) to
    /// `record_id` at `now`, changing `changes`.
    pub fn statement(&self, record_id: &str, action: &str, changes: &Changes, actor: &str, now: i64) -> SqlBuf {
        let mut q = SqlBuf::new(&format!(
            "INSERT INTO {} (id, {}, action, fields, changed_by, changed_at) VALUES (",
            self.table, self.record_column
        ));
        q.text(crate::new_id())
            .push(", ")
            .text(record_id)
            .push(", ")
            .text(action);
        q.push(", ").text(changes.to_json());
        q.push(", ").text(actor).push(", ").int(now).push(")");
        q
    }

    /// Records a change (see [`Trail::statement`]) on `conn`, usually the change's transaction.
    pub async fn record(
        &self,
        conn: &mut AnyConnection,
        record_id: &str,
        action: &str,
        changes: &Changes,
        actor: &str,
        now: i64,
    ) -> Result<()> {
        self.statement(record_id, action, changes, actor, now)
            .query()
            .execute(conn)
            .await?;
        Ok(())
    }

    /// Records the same `action`, with no fields, for many records at once (an import), in as
    /// few statements as the backend allows.
    pub async fn record_many(
        &self,
        conn: &mut AnyConnection,
        record_ids: &[&str],
        action: &str,
        actor: &str,
        now: i64,
    ) -> Result<()> {
        if crate::db::backend(conn) == crate::db::Backend::Postgres {
            let mut rows = crate::sql::ArrayInsert::new(
                self.table,
                &[
                    ("id", "TEXT"),
                    (self.record_column, "TEXT"),
                    ("action", "TEXT"),
                    ("fields", "TEXT"),
                    ("changed_by", "TEXT"),
                    ("changed_at", "BIGINT"),
                ],
            );
            let at = now.to_string();
            for id in record_ids {
                rows.row(&[crate::new_id().as_str(), id, action, "[]", actor, &at]);
            }
            if !rows.is_empty() {
                rows.statement().query().execute(&mut *conn).await?;
            }
            return Ok(());
        }
        let per_statement = crate::db::rows_per_statement(conn, 6);
        for chunk in record_ids.chunks(per_statement) {
            let mut q = SqlBuf::new(&format!(
                "INSERT INTO {} (id, {}, action, fields, changed_by, changed_at) VALUES ",
                self.table, self.record_column
            ));
            for (i, id) in chunk.iter().enumerate() {
                q.push(if i == 0 { "(" } else { ", (" });
                q.text(crate::new_id()).push(", ").text(*id).push(", ").text(action);
                q.push(", '[]', ").text(actor).push(", ").int(now).push(")");
            }
            q.query().execute(&mut *conn).await?;
        }
        Ok(())
    }

    /// A page of `visible_record_id`'s history, newest first (see [`crate::listing`]: the
    /// page size checked, the token bound to this record). A trail carries no owner of its own:
    /// the caller reads the record through its scope first and asks for the history of a
    /// record it found.
    pub async fn list(
        &self,
        conn: &mut AnyConnection,
        tokens: &crate::paging::PageTokens,
        visible_record_id: &str,
        page_size: i32,
        page_token: &str,
    ) -> Result<Page<ChangeRow>> {
        let keyset = Keyset::open(
            tokens,
            Order::by_id("id", Direction::Descending),
            page_size,
            page_token,
            &[self.table, visible_record_id],
        )?;
        let select = format!(
            "SELECT id, {} AS record_id, action, fields, changed_by, changed_at FROM {}",
            self.record_column, self.table
        );
        let mut q = SqlBuf::read(
            &select,
            &crate::auth::ReadScope::everything("the history of a record the caller's scoped read found"),
        );
        q.push(" AND ")
            .push(self.record_column)
            .push(" = ")
            .text(visible_record_id);
        keyset.fetch(conn, q, |c: &ChangeRow| Position::at_id(&c.id)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unchanged_fields_are_left_out_and_the_rest_round_trip() {
        let mut changes = Changes::new();
        changes
            .field("name", "Acme", "Acme Ltd")
            .field("city", "Shanghai", "Shanghai");
        assert_eq!(changes.fields().len(), 1);
        assert_eq!(changes.fields()[0].field, "name");
        let back = Changes::from_json(&changes.to_json());
        assert_eq!(back, changes);
        assert!(Changes::from_json("not json").is_empty());
    }
}
