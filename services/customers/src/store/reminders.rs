//! The reads behind reminders: contacts with a birthday on given days, and customers whose
//! follow-up or order clock falls in a window, each within the caller's reach and paged by the
//! kit's keyset.

use crm_kit::Result;
use crm_kit::auth::ReadScope;
use crm_kit::listing::{Keyset, Page, Position};
use sqlx::AnyConnection;

use super::SqlBuf;
use super::contacts::ContactRow;
use super::customers::{COLUMNS, CustomerRow};

/// Whose customers a reminder list shows.
#[derive(Debug, Clone, Copy)]
pub enum Owners<'a> {
    /// Every owned customer within the reach (a manager's team list).
    Team,
    /// The customers of one employee.
    Of(&'a str),
}

impl Owners<'_> {
    fn push(&self, q: &mut SqlBuf) {
        match self {
            Owners::Team => {
                q.push(" AND c.owner_id <> ''");
            }
            Owners::Of(employee) => {
                q.push(" AND c.owner_id = ").text(employee.to_string());
            }
        }
    }
}

/// A contact with the `MM-DD` of their birthday.
#[derive(Debug, sqlx::FromRow)]
pub struct Birthday {
    #[sqlx(flatten)]
    pub contact: ContactRow,
    pub birthday_md: String,
}

/// A page of contacts of live customers whose birthday (`MM-DD`) is one of `days`, in the
/// keyset's order (`k.birthday_md`, `k.id`).
pub async fn birthdays(
    conn: &mut AnyConnection,
    keyset: &Keyset<'_>,
    reach: &ReadScope,
    owners: Owners<'_>,
    days: &[String],
) -> Result<Page<Birthday>> {
    let mut q = SqlBuf::read(
        "SELECT k.id, k.customer_id, k.name, k.title, k.department, k.mobile, k.mobile_typed, k.phone, k.phone_typed, \
         k.email, k.im_handles, k.birthday, k.is_primary, k.remark, k.created_at, k.created_by, k.updated_at, \
         k.updated_by, k.version, k.birthday_md FROM contacts k JOIN customers c ON c.id = k.customer_id",
        reach,
    );
    q.push(" AND c.deleted_at IS NULL AND ")
        .in_texts("k.birthday_md", days.iter().map(String::as_str));
    owners.push(&mut q);
    keyset
        .fetch(conn, q, |b: &Birthday| Position::at(&b.birthday_md, &b.contact.id))
        .await
}

/// A page of live customers whose `clock` (an SQL expression over `c`, the keyset's order key)
/// is in `[from, until)` (`from` none: any time before `until`).
#[allow(clippy::too_many_arguments)]
pub async fn due(
    conn: &mut AnyConnection,
    keyset: &Keyset<'_>,
    reach: &ReadScope,
    owners: Owners<'_>,
    clock: &str,
    from: Option<i64>,
    until: i64,
    position: impl Fn(&CustomerRow) -> Position,
) -> Result<Page<CustomerRow>> {
    let mut q = SqlBuf::read(&format!("SELECT {COLUMNS} FROM customers c"), reach);
    q.push(" AND c.deleted_at IS NULL");
    owners.push(&mut q);
    if let Some(from) = from {
        q.push(&format!(" AND {clock} >= ")).int(from);
    }
    q.push(&format!(" AND {clock} < ")).int(until);
    keyset.fetch(conn, q, position).await
}
