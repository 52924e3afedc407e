//! Starting the service and calling it as a given employee.

use crm_identity::testing::TestIdentity;
use crm_kit::testing::{TestServer, fresh_database};
pub use crm_kit::testing::{assert_field, assert_reason};
use crm_proto::customers as pb;
use crm_proto::customers::customers_service_client::CustomersServiceClient;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

pub use crm_kit::testing::Bearer;

pub type Client = CustomersServiceClient<InterceptedService<Channel, Bearer>>;

/// Salespeople who exist in identity (so customers can be handed to them).
pub const SALESPEOPLE: &[&str] = &["alice", "bob", "carol"];
/// The sales manager who exists in identity.
pub const MANAGER: &str = "boss";

/// A running customers service, and the identity service whose keys verify its callers.
pub struct TestApp {
    pub server: TestServer,
    pub identity: TestIdentity,
    pub database_url: String,
}

/// Starts identity (with the Sales department, three salespeople and their manager) and the
/// customers service on fresh databases.
pub async fn spawn() -> TestApp {
    let identity = TestIdentity::start(&fresh_database("identity").await).await;
    for id in SALESPEOPLE {
        identity.employee(id, "salesperson").await;
    }
    identity.employee(MANAGER, "sales_manager").await;
    let customers = crm_customers::testing::spawn(&identity.url()).await;
    TestApp {
        server: customers.server,
        identity,
        database_url: customers.database_url,
    }
}

impl TestApp {
    /// A client calling with `token`.
    pub async fn client_with(&self, token: &str) -> Client {
        CustomersServiceClient::with_interceptor(
            crm_kit::testing::channel(&self.server.endpoint()).await,
            Bearer::new(token),
        )
    }

    /// A client calling as `employee` of the Sales department: a sales manager (department-tree
    /// scope) when `manager`, else a salesperson (own scope).
    pub async fn client_as(&self, employee: &str, manager: bool) -> Client {
        let role = if manager { "sales_manager" } else { "salesperson" };
        self.client_with(&self.identity.token(employee, role)).await
    }

    /// A salesperson.
    pub async fn sales(&self, employee: &str) -> Client {
        self.client_as(employee, false).await
    }

    /// The sales manager.
    pub async fn manager(&self) -> Client {
        self.client_as(MANAGER, true).await
    }
}

/// A company with a name.
pub fn company(name: &str) -> pb::Customer {
    pb::Customer {
        kind: pb::CustomerKind::Company as i32,
        name: name.into(),
        ..Default::default()
    }
}

/// Creates a company and returns it.
pub async fn create(client: &mut Client, customer: pb::Customer) -> pb::Customer {
    client
        .create_customer(pb::CreateCustomerRequest {
            customer: Some(customer),
            ..Default::default()
        })
        .await
        .expect("create customer")
        .into_inner()
        .customer
        .expect("customer")
}

/// Lists every customer visible to the client (following pages).
pub async fn list_all(
    client: &mut Client,
    filter: &str,
    query: &str,
    order_by: &str,
    page_size: i32,
) -> Vec<pb::Customer> {
    let mut out = Vec::new();
    let mut token = String::new();
    loop {
        let page = client
            .list_customers(pb::ListCustomersRequest {
                page_size,
                page_token: token.clone(),
                filter: filter.into(),
                order_by: order_by.into(),
                query: query.into(),
                show_deleted: false,
            })
            .await
            .expect("list")
            .into_inner();
        out.extend(page.customers);
        if page.next_page_token.is_empty() {
            return out;
        }
        token = page.next_page_token;
    }
}

/// Moves every ownership start and creation back by `days` (to test time-based rules).
pub async fn age_ownership(database_url: &str, days: i64) {
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(database_url)
        .await
        .expect("connect test database");
    sqlx::query(
        "UPDATE customers SET owned_since = owned_since - $1, created_at = created_at - $1 WHERE owner_id <> ''",
    )
    .bind(days * crm_kit::time::DAY_MICROS)
    .execute(&pool)
    .await
    .expect("age ownership");
    pool.close().await;
}

/// Sets a customer's receivable balance (as the finance events will).
pub async fn set_balance(database_url: &str, id: &str, scaled: i64) {
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(database_url)
        .await
        .expect("connect test database");
    sqlx::query("UPDATE customers SET receivable_balance = $1 WHERE id = $2")
        .bind(scaled)
        .bind(id)
        .execute(&pool)
        .await
        .expect("set balance");
    pool.close().await;
}
