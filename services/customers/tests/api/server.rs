//! The server around the service: health, reflection, graceful shutdown.

use tonic::transport::Channel;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

use crate::helpers::spawn;

/// A health client of the app's service.
async fn health_of(app: &crate::helpers::TestApp) -> HealthClient<Channel> {
    let channel = Channel::from_shared(app.server.endpoint())
        .unwrap()
        .connect()
        .await
        .unwrap();
    HealthClient::new(channel)
}

/// The status health reports for `service`.
async fn status(health: &mut HealthClient<Channel>, service: &str) -> Result<i32, tonic::Status> {
    Ok(health
        .check(HealthCheckRequest {
            service: service.into(),
        })
        .await?
        .into_inner()
        .status)
}

#[tokio::test]
async fn health_reports_serving_for_the_service() {
    let app = spawn().await;
    let mut health = health_of(&app).await;
    for service in ["", "crm.customers.v1.CustomersService"] {
        assert_eq!(
            status(&mut health, service).await.unwrap(),
            ServingStatus::Serving as i32,
            "{service}"
        );
    }
    assert_eq!(
        status(&mut health, "nope").await.unwrap_err().code(),
        tonic::Code::NotFound
    );
}

/// Waits (up to 20 s) until health reports `want` for `service`.
async fn wait_for(health: &mut HealthClient<Channel>, service: &str, want: ServingStatus) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while status(health, service).await.unwrap() != want as i32 {
        assert!(std::time::Instant::now() < deadline, "{service} never became {want:?}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// The follower of identity's feed has its own health entry: NOT_SERVING while identity is
/// unreachable, while the service itself stays SERVING (it still serves its own data).
#[tokio::test]
async fn the_event_follower_reports_its_own_health() {
    let app = spawn().await;
    let mut health = health_of(&app).await;
    let follower = crm_kit::handover::Wiring::follower_health_name("identity");
    assert_eq!(follower, "crm.events.follow.identity");
    wait_for(&mut health, &follower, ServingStatus::Serving).await;
    app.identity.server.stop().await;
    wait_for(&mut health, &follower, ServingStatus::NotServing).await;
    for service in ["", "crm.customers.v1.CustomersService"] {
        assert_eq!(
            status(&mut health, service).await.unwrap(),
            ServingStatus::Serving as i32,
            "{service}"
        );
    }
}

#[tokio::test]
async fn reflection_lists_the_service() {
    use tonic_reflection::pb::v1::ServerReflectionRequest;
    use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
    use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
    use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;
    let app = spawn().await;
    let channel = Channel::from_shared(app.server.endpoint())
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut client = ServerReflectionClient::new(channel);
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut responses = client
        .server_reflection_info(tokio_stream::iter(vec![request]))
        .await
        .unwrap()
        .into_inner();
    let response = responses.message().await.unwrap().unwrap();
    let Some(MessageResponse::ListServicesResponse(list)) = response.message_response else {
        panic!("unexpected {response:?}")
    };
    let names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
    assert!(
        names.contains(&"crm.customers.v1.CustomersService".to_string()),
        "{names:?}"
    );
    assert!(names.contains(&"grpc.health.v1.Health".to_string()), "{names:?}");
}

#[tokio::test]
async fn shutdown_drains_and_stops() {
    let app = spawn().await;
    let endpoint = app.server.endpoint();
    let mut client = app.sales("alice").await;
    crate::helpers::create(&mut client, crate::helpers::company("Before Shutdown Ltd")).await;
    tokio::time::timeout(std::time::Duration::from_secs(30), app.server.stop())
        .await
        .expect("stops within the grace period");
    let again = Channel::from_shared(endpoint).unwrap().connect().await;
    assert!(again.is_err(), "the listener is closed after shutdown");
}
