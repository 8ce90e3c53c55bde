//! The test harness: the real router over a fresh, really migrated database per test —
//! a temporary SQLite file, or a new PostgreSQL database dropped when the test ends.

use axum::body::Body;
use axum::http::{header, HeaderMap, Method, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};
use serde_json::{json, Value};
use steward_backend::{app, prepare, AppState, Config};
use tower::ServiceExt;

/// Admin connection for creating per-test PostgreSQL databases.
fn pg_admin_url() -> String {
    std::env::var("STEWARD_TEST_PG_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

pub struct TestApp {
    pub router: Router,
    pub state: AppState,
    pub kind: &'static str,
    _dir: tempfile::TempDir,
    pg_db: Option<String>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let Some(name) = self.pg_db.take() else {
            return;
        };
        // Drop is synchronous: drop the database from a thread with its own runtime.
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() else {
                return;
            };
            rt.block_on(async move {
                if let Ok(admin) = Database::connect(pg_admin_url()).await {
                    let _ = admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")).await;
                    let _ = admin.close().await;
                }
            });
        })
        .join();
    }
}

pub struct Response {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Response {
    /// The problem `type` code, for problem responses.
    pub fn problem(&self) -> &str {
        self.body.get("type").and_then(Value::as_str).and_then(|t| t.strip_prefix("urn:steward:problem:")).unwrap_or("")
    }
}

/// Operations that answer an endless event stream: a test reads their status, never the body.
pub const STREAMS: &[&str] = &["follow_logs", "follow_explorer_changes"];

pub const ADMIN_EMAIL: &str = "admin@example.com";
pub const ADMIN_PASSWORD: &str = "correct horse battery staple";

impl TestApp {
    pub async fn sqlite() -> Self {
        Self::sqlite_with(|_| {}).await
    }

    pub async fn postgres() -> Self {
        Self::postgres_with(|_| {}).await
    }

    /// The same database of `kind` ("sqlite" or "postgres"), with the configuration adjusted.
    pub async fn of_kind_with(kind: &str, adjust: impl FnOnce(&mut Config)) -> Self {
        match kind {
            "postgres" => Self::postgres_with(adjust).await,
            _ => Self::sqlite_with(adjust).await,
        }
    }

    pub async fn sqlite_with(adjust: impl FnOnce(&mut Config)) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("steward.db").display());
        Self::start(url, dir, None, "sqlite", adjust).await
    }

    pub async fn postgres_with(adjust: impl FnOnce(&mut Config)) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let name = format!("steward_t_{}", uuid::Uuid::new_v4().simple());
        let admin = Database::connect(pg_admin_url()).await.expect("PostgreSQL reachable (STEWARD_TEST_PG_URL)");
        admin.execute_unprepared(&format!("CREATE DATABASE \"{name}\"")).await.expect("create test database");
        admin.close().await.expect("close admin connection");
        let base = pg_admin_url();
        let url = match base.rsplit_once('/') {
            Some((server, _)) => format!("{server}/{name}"),
            None => panic!("bad STEWARD_TEST_PG_URL"),
        };
        Self::start(url, dir, Some(name), "postgres", adjust).await
    }

    /// An app on a PostgreSQL database this test made and removes itself (a throwaway server).
    pub async fn postgres_at(url: &str, adjust: impl FnOnce(&mut Config)) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        Self::start(url.to_owned(), dir, None, "postgres", adjust).await
    }

    async fn start(
        url: String,
        dir: tempfile::TempDir,
        pg_db: Option<String>,
        kind: &'static str,
        adjust: impl FnOnce(&mut Config),
    ) -> Self {
        let mut config = Config::for_tests(url, dir.path().to_path_buf());
        config.assets_dir = Some(dir.path().join("dist"));
        config.db_max_connections = 5;
        adjust(&mut config);
        let state = prepare(config).await.expect("prepare");
        let router = app(state.clone()).expect("app");
        Self { router, state, kind, _dir: dir, pg_db }
    }

    /// Serves this app's router on a local port, as a real server would; returns its address.
    pub async fn listen(&self) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("address");
        let service = self.router.clone().into_make_service_with_connect_info::<std::net::SocketAddr>();
        tokio::spawn(async move { axum::serve(listener, service).await });
        format!("http://{addr}")
    }

    pub fn db(&self) -> &DatabaseConnection {
        &self.state.db
    }

    /// Sends one request through the whole router.
    pub async fn send(&self, req: Request<Body>) -> Response {
        let (req, sent) = if crate::examples::recording() {
            let (parts, body) = req.into_parts();
            let bytes = body.collect().await.expect("body").to_bytes();
            let sent = serde_json::from_slice::<Value>(&bytes).ok();
            let exchange = (parts.method.clone(), parts.uri.to_string(), sent);
            (Request::from_parts(parts, Body::from(bytes)), Some(exchange))
        } else {
            (req, None)
        };
        let res = self.router.clone().oneshot(req).await.expect("infallible");
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = res.into_body().collect().await.expect("body").to_bytes();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        };
        if let Some((method, uri, sent)) = sent {
            let json = headers
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|t| t.starts_with("application/json"));
            crate::examples::record(&method, &uri, sent.as_ref(), status, json, &body);
        }
        Response { status, headers, body }
    }

    pub async fn call(&self, method: Method, path: &str, token: Option<&str>, body: Option<Value>) -> Response {
        let mut req = Request::builder().method(method).uri(path);
        if let Some(token) = token {
            req = req.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let req = match body {
            Some(body) => req.header(header::CONTENT_TYPE, "application/json").body(Body::from(body.to_string())),
            None => req.body(Body::empty()),
        };
        self.send(req.expect("request")).await
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Response {
        self.call(Method::GET, path, token, None).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Response {
        self.call(Method::POST, path, token, Some(body)).await
    }

    /// Completes first-launch setup; returns the admin's access token.
    pub async fn setup_admin(&self) -> String {
        let res = self
            .post("/api/setup", None, json!({ "email": ADMIN_EMAIL, "password": ADMIN_PASSWORD, "name": "Ada Admin" }))
            .await;
        assert_eq!(res.status, StatusCode::CREATED, "{:?}", res.body);
        res.body["access_token"].as_str().expect("token").to_owned()
    }

    pub async fn login(&self, email: &str, password: &str) -> Response {
        self.post("/api/auth/login", None, json!({ "email": email, "password": password })).await
    }

    /// A request as if from `ip` (the server reads the peer address from the connection).
    pub async fn post_from(&self, ip: &str, path: &str, body: Value) -> Response {
        let addr: std::net::SocketAddr = format!("{ip}:40000").parse().expect("ip");
        let mut req = Request::builder()
            .method(Method::POST)
            .uri(path)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string()))
            .expect("request");
        req.extensions_mut().insert(axum::extract::ConnectInfo(addr));
        self.send(req).await
    }

    /// Sends with extra headers.
    pub async fn call_with(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Response {
        let mut req =
            Request::builder().method(method).uri(path).header(header::AUTHORIZATION, format!("Bearer {token}"));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let req = match body {
            Some(body) => req.header(header::CONTENT_TYPE, "application/json").body(Body::from(body.to_string())),
            None => req.body(Body::empty()),
        };
        self.send(req.expect("request")).await
    }

    /// The status of a request whose body is never read (an endless event stream).
    pub async fn status_of(&self, method: Method, path: &str, token: &str) -> StatusCode {
        let req = Request::builder()
            .method(method)
            .uri(path)
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::empty())
            .expect("request");
        self.router.clone().oneshot(req).await.expect("infallible").status()
    }

    pub async fn patch(&self, path: &str, token: Option<&str>, body: Value) -> Response {
        self.call(Method::PATCH, path, token, Some(body)).await
    }
}

/// Runs each named `async fn(TestApp)` once on SQLite and once on PostgreSQL.
#[macro_export]
macro_rules! on_both {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name($crate::harness::TestApp::sqlite().await).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$name($crate::harness::TestApp::postgres().await).await
            }
        }
    )*};
}

/// A signed-in principal made for a test.
pub struct Principal {
    pub user_id: uuid::Uuid,
    pub workspace_id: uuid::Uuid,
    pub customer_id: uuid::Uuid,
    pub email: String,
    pub token: String,
}

impl TestApp {
    /// A customer with one workspace; returns (customer, workspace).
    pub async fn customer(&self, name: &str, kind: &str) -> (uuid::Uuid, uuid::Uuid) {
        use sea_orm::{ActiveModelTrait, Set};
        use steward_backend::store::entities::customers;
        let now = chrono::Utc::now();
        let customer = customers::ActiveModel {
            id: Set(uuid::Uuid::now_v7()),
            name: Set(name.into()),
            slug: Set(format!("{}-{}", name.to_lowercase().replace(' ', "-"), uuid::Uuid::new_v4().simple())),
            kind: Set(kind.into()),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(self.db())
        .await
        .unwrap();
        let workspace = self.workspace(customer.id, &format!("{name} main")).await;
        (customer.id, workspace)
    }

    pub async fn workspace(&self, customer: uuid::Uuid, name: &str) -> uuid::Uuid {
        use sea_orm::{ActiveModelTrait, Set};
        use steward_backend::store::entities::workspaces;
        let now = chrono::Utc::now();
        workspaces::ActiveModel {
            id: Set(uuid::Uuid::now_v7()),
            customer_id: Set(customer),
            name: Set(name.into()),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(self.db())
        .await
        .unwrap()
        .id
    }

    /// A custom role in `workspace` granting `patterns`, straight into the database.
    pub async fn role(&self, customer: uuid::Uuid, workspace: uuid::Uuid, patterns: &[&str]) -> uuid::Uuid {
        use sea_orm::{ActiveModelTrait, EntityTrait, Set};
        use steward_backend::store::entities::{role_permissions, roles};
        let now = chrono::Utc::now();
        let role = roles::ActiveModel {
            id: Set(uuid::Uuid::now_v7()),
            customer_id: Set(Some(customer)),
            workspace_id: Set(Some(workspace)),
            name: Set(format!("fixture-{}", uuid::Uuid::new_v4().simple())),
            description: Set(String::new()),
            is_system: Set(false),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(self.db())
        .await
        .unwrap();
        if !patterns.is_empty() {
            role_permissions::Entity::insert_many(
                patterns
                    .iter()
                    .map(|p| role_permissions::ActiveModel { role_id: Set(role.id), pattern: Set((*p).into()) }),
            )
            .exec_without_returning(self.db())
            .await
            .unwrap();
        }
        role.id
    }

    /// A user of `customer` whose home membership in `workspace` holds `role`, signed in.
    pub async fn user_with_role(&self, customer: uuid::Uuid, workspace: uuid::Uuid, role: uuid::Uuid) -> Principal {
        use sea_orm::{ActiveModelTrait, Set};
        use steward_backend::store::entities::{user_roles, users};
        let now = chrono::Utc::now();
        let email = format!("user-{}@example.com", uuid::Uuid::new_v4().simple());
        let user = users::ActiveModel {
            id: Set(uuid::Uuid::now_v7()),
            customer_id: Set(customer),
            home_workspace_id: Set(Some(workspace)),
            email: Set(email.clone()),
            name: Set("Fixture User".into()),
            locale: Set("en".into()),
            status: Set("active".into()),
            super_admin: Set(false),
            // A precomputed argon2id hash of ADMIN_PASSWORD keeps fixtures fast.
            password_hash: Set(Some(fixture_hash(self).await)),
            totp_secret: Set(None),
            totp_enabled: Set(false),
            totp_last_step: Set(None),
            last_login_at: Set(None),
            erased_at: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(self.db())
        .await
        .unwrap();
        user_roles::ActiveModel {
            customer_id: Set(customer),
            workspace_id: Set(workspace),
            user_id: Set(user.id),
            role_id: Set(role),
            created_at: Set(now),
        }
        .insert(self.db())
        .await
        .unwrap();
        let pair = steward_backend::identity::sessions::open(&self.state, self.db(), &user, &Default::default())
            .await
            .unwrap();
        Principal { user_id: user.id, workspace_id: workspace, customer_id: customer, email, token: pair.access_token }
    }

    /// A signed-in user of the platform customer holding exactly `patterns`, in a fresh workspace.
    pub async fn principal(&self, patterns: &[&str]) -> Principal {
        let customer = self.platform_customer().await;
        let workspace = self.workspace(customer, &format!("ws-{}", uuid::Uuid::new_v4().simple())).await;
        let role = self.role(customer, workspace, patterns).await;
        self.user_with_role(customer, workspace, role).await
    }

    pub async fn platform_customer(&self) -> uuid::Uuid {
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        use steward_backend::store::entities::customers;
        customers::Entity::find()
            .filter(customers::Column::Kind.eq("platform"))
            .one(self.db())
            .await
            .unwrap()
            .expect("setup first")
            .id
    }

    pub async fn put(&self, path: &str, token: Option<&str>, body: Value) -> Response {
        self.call(Method::PUT, path, token, Some(body)).await
    }

    pub async fn delete(&self, path: &str, token: Option<&str>) -> Response {
        self.call(Method::DELETE, path, token, None).await
    }
}

async fn fixture_hash(app: &TestApp) -> String {
    static HASH: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();
    HASH.get_or_init(|| async {
        steward_backend::identity::password::hash(&app.state, ADMIN_PASSWORD.into()).await.unwrap()
    })
    .await
    .clone()
}
