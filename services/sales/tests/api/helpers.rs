//! Starting identity, customers and sales wired together on fresh databases, and calling sales
//! as a given employee.

use crm_identity::testing::{Bearer, TestIdentity};
use crm_kit::testing::{TestServer, fresh_database};
pub use crm_kit::testing::{assert_field, assert_reason};
use crm_proto::customers::customers_service_client::CustomersServiceClient;
use crm_proto::sales as pb;
use crm_proto::sales::sales_service_client::SalesServiceClient;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

pub type Sales = SalesServiceClient<InterceptedService<Channel, Bearer>>;
pub type Customers = CustomersServiceClient<InterceptedService<Channel, Bearer>>;

/// The salespeople and their manager, all in the Sales department.
pub const SALESPEOPLE: &[&str] = &["alice", "bob"];
pub const MANAGER: &str = "boss";

pub struct TestApp {
    pub identity: TestIdentity,
    pub customers: TestServer,
    pub sales: TestServer,
    pub sales_database_url: String,
}

async fn listener() -> (tokio::net::TcpListener, String) {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", l.local_addr().expect("addr"));
    (l, url)
}

pub async fn spawn() -> TestApp {
    spawn_polling(std::time::Duration::from_secs(1)).await
}

/// [`spawn`] with sales polling identity's token revocations every `poll`.
pub async fn spawn_polling(poll: std::time::Duration) -> TestApp {
    let (customers_listener, customers_url) = listener().await;
    let (sales_listener, sales_url) = listener().await;
    let identity = TestIdentity::start_with_peers(
        &fresh_database("identity").await,
        vec![customers_url.clone(), sales_url],
    )
    .await;
    for id in SALESPEOPLE {
        identity.employee(id, "salesperson").await;
    }
    identity.employee(MANAGER, "sales_manager").await;

    let customers = crm_customers::testing::spawn_with(&identity.url(), Some(customers_listener), |c| {
        c.service.db_max_connections = 4;
    })
    .await;
    let sales = crm_sales::testing::spawn_with(&identity.url(), &customers_url, Some(sales_listener), |c| {
        c.service.revocation_poll_ms = u64::try_from(poll.as_millis()).unwrap_or(u64::MAX);
    })
    .await;
    TestApp {
        identity,
        customers: customers.server,
        sales: sales.server,
        sales_database_url: sales.database_url,
    }
}

impl TestApp {
    fn role(employee: &str) -> &'static str {
        if employee == MANAGER {
            "sales_manager"
        } else {
            "salesperson"
        }
    }

    pub async fn sales_as(&self, employee: &str) -> Sales {
        let channel = crm_kit::testing::channel(&self.sales.endpoint()).await;
        SalesServiceClient::with_interceptor(
            channel,
            Bearer::new(&self.identity.token(employee, Self::role(employee))),
        )
    }

    pub async fn customers_as(&self, employee: &str) -> Customers {
        let channel = crm_kit::testing::channel(&self.customers.endpoint()).await;
        CustomersServiceClient::with_interceptor(
            channel,
            Bearer::new(&self.identity.token(employee, Self::role(employee))),
        )
    }

    /// The default pipeline.
    pub async fn pipeline(&self) -> pb::Pipeline {
        let mut client = self.sales_as(MANAGER).await;
        client
            .list_pipelines(pb::ListPipelinesRequest {})
            .await
            .unwrap()
            .into_inner()
            .pipelines
            .into_iter()
            .find(|p| p.is_default)
            .expect("the default pipeline")
    }
}

/// CNY money.
pub fn cny(amount: &str) -> Option<crm_proto::common::Money> {
    Some(crm_proto::common::Money {
        currency_code: "CNY".into(),
        amount: amount.into(),
    })
}

/// A lead of `company` with a contact.
pub fn lead(company: &str) -> pb::Lead {
    pb::Lead {
        company_name: company.into(),
        contact_name: "Li Lei".into(),
        mobile: "13800001111".into(),
        source: pb::LeadSource::Referral as i32,
        ..Default::default()
    }
}

pub async fn create_lead(client: &mut Sales, l: pb::Lead, owner: &str) -> pb::Lead {
    client
        .create_lead(pb::CreateLeadRequest {
            lead: Some(l),
            owner_id: owner.into(),
            request_id: String::new(),
        })
        .await
        .expect("create lead")
        .into_inner()
        .lead
        .unwrap()
}
