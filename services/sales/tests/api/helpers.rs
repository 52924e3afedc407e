//! Starting identity, customers and sales wired together on fresh databases, and calling sales
//! as a given employee.

use crm_identity::testing::{Bearer, TestIdentity};
use crm_kit::testing::{TestServer, fresh_database};
use crm_proto::customers::customers_service_client::CustomersServiceClient;
use crm_proto::sales as pb;
use crm_proto::sales::sales_service_client::SalesServiceClient;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;
use tonic::{Code, Status};
use tonic_types::StatusExt;

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

    let customers_db = fresh_database("customers").await;
    let mut config = crm_customers::Config::for_suite(&std::env::temp_dir());
    config.service.database_url = Some(customers_db.url.clone());
    config.service.identity_url = identity.url();
    config.service.db_max_connections = 4;
    config.reclaim_interval_seconds = 0;
    let customers = TestServer::start_on(customers_listener, move |listener, shutdown| async move {
        crm_customers::run(config, listener, shutdown)
            .await
            .expect("customers runs");
    })
    .await;

    let sales_db = fresh_database("sales").await;
    let mut config = crm_sales::Config::for_suite(&std::env::temp_dir());
    config.service.database_url = Some(sales_db.url.clone());
    config.service.identity_url = identity.url();
    config.service.db_max_connections = 4;
    config.customers_url = customers_url;
    config.service.revocation_poll_ms = u64::try_from(poll.as_millis()).unwrap_or(u64::MAX);
    let sales = TestServer::start_on(sales_listener, move |listener, shutdown| async move {
        crm_sales::run(config, listener, shutdown).await.expect("sales runs");
    })
    .await;
    TestApp {
        identity,
        customers,
        sales,
        sales_database_url: sales_db.url,
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
        let channel = Channel::from_shared(self.sales.endpoint())
            .unwrap()
            .connect()
            .await
            .unwrap();
        SalesServiceClient::with_interceptor(
            channel,
            Bearer::new(&self.identity.token(employee, Self::role(employee))),
        )
    }

    pub async fn customers_as(&self, employee: &str) -> Customers {
        let channel = Channel::from_shared(self.customers.endpoint())
            .unwrap()
            .connect()
            .await
            .unwrap();
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

/// Asserts a status code and that a field violation names `field`.
pub fn assert_field<T: std::fmt::Debug>(result: Result<T, Status>, code: Code, field: &str) -> Status {
    let status = result.expect_err("expected an error");
    assert_eq!(status.code(), code, "{status:?}");
    let bad = status
        .get_details_bad_request()
        .unwrap_or_else(|| panic!("no BadRequest in {status:?}"));
    assert!(
        bad.field_violations.iter().any(|v| v.field == field),
        "no violation for {field} in {:?}",
        bad.field_violations
    );
    status
}

/// Asserts a status code and ErrorInfo reason.
pub fn assert_reason<T: std::fmt::Debug>(result: Result<T, Status>, code: Code, reason: &str) -> Status {
    let status = result.expect_err("expected an error");
    assert_eq!(status.code(), code, "{status:?}");
    let info = status
        .get_details_error_info()
        .unwrap_or_else(|| panic!("no ErrorInfo in {status:?}"));
    assert_eq!(info.reason, reason, "{status:?}");
    status
}
