//! The production warehouse: BigQuery through gcp-bigquery-client, the same check SQL as
//! the embedded engine, rendered for BigQuery (backticked `project.dataset.table`, named
//! typed parameters).
//!
//! Every result is read page by page (jobs.query, then jobs.getQueryResults with the
//! page token) under one deadline per query: a job that does not finish in time is an
//! error naming the job, never an endless poll. Retryable replies (5xx, rate limits,
//! timeouts) are retried a bounded number of times with backoff; everything else is one
//! line and exit 3. One engine holds one client and one runtime for every query of a
//! command, the runner's verifications included.

use gcp_bigquery_client::Client;
use gcp_bigquery_client::auth::Authenticator;
use gcp_bigquery_client::client_builder::ClientBuilder;
use gcp_bigquery_client::error::BQError;
use gcp_bigquery_client::model::data_format_options::DataFormatOptions;
use gcp_bigquery_client::model::error_proto::ErrorProto;
use gcp_bigquery_client::model::field_type::FieldType;
use gcp_bigquery_client::model::get_query_results_parameters::GetQueryResultsParameters;
use gcp_bigquery_client::model::query_parameter::QueryParameter;
use gcp_bigquery_client::model::query_parameter_type::QueryParameterType;
use gcp_bigquery_client::model::query_parameter_value::QueryParameterValue;
use gcp_bigquery_client::model::query_request::QueryRequest;
use gcp_bigquery_client::model::query_response::QueryResponse;
use gcp_bigquery_client::model::table_schema::TableSchema;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::{Access, Capabilities, Engine, EngineOptions, Rows, Value, Warehouse};
use crate::catalog::{Catalog, TableName};
use crate::config::WarehouseConfig;
use crate::error::Error;
use crate::settings::defaults;
use crate::settings::values::parse_positive_duration;
use crate::sql::{Dialect, Function, Param, Query, RenderedQuery};

/// Where and how to reach BigQuery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BigQuerySettings {
    pub project: String,
    /// Where the jobs run (`US`, `EU`, `europe-west2`...).
    pub location: String,
    pub datasets: DatasetNames,
    /// BigQuery's maximumBytesBilled for every query.
    pub max_bytes_billed: Option<i64>,
    /// The deadline of one query, from its first request to its last page.
    pub query_timeout: Duration,
    /// Another endpoint than Google's (an emulator, or the tests' fake server) and the
    /// fixed token it is sent instead of Google credentials.
    pub api_url: Option<String>,
    pub api_token: String,
    /// Rows per page asked of BigQuery (None: BigQuery's default).
    pub page_size: Option<i32>,
    /// Attempts of one request when BigQuery replies with a retryable error.
    pub max_attempts: u32,
    /// The first retry's delay; it doubles per attempt.
    pub retry_backoff: Duration,
}

impl BigQuerySettings {
    pub fn new(project: &str) -> Self {
        BigQuerySettings {
            project: project.to_string(),
            location: defaults::BIGQUERY_LOCATION.to_string(),
            datasets: DatasetNames::default(),
            max_bytes_billed: None,
            query_timeout: defaults::BIGQUERY_QUERY_TIMEOUT,
            api_url: None,
            api_token: defaults::BIGQUERY_TOKEN.to_string(),
            page_size: None,
            max_attempts: defaults::BIGQUERY_ATTEMPTS,
            retry_backoff: defaults::BIGQUERY_RETRY_BACKOFF,
        }
    }

    /// The settings of `bigquery:PROJECT`.
    pub fn from_spec(project: &str) -> Result<Self, Error> {
        let valid = !project.is_empty()
            && project
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == ':' || c == '.');
        if !valid {
            let project = crate::error::echo(project);
            return Err(Error::usage(format!(
                "--warehouse bigquery:{project}: `{project}` is not a Google Cloud project id"
            )));
        }
        Ok(BigQuerySettings::new(project))
    }

    /// Location, byte cap and query timeout from the flags, else `[warehouse]` in
    /// phase4.toml; page size and dataset names from the file; another endpoint and its
    /// token from the environment.
    pub fn configure(mut self, options: &EngineOptions<'_>) -> Result<Self, Error> {
        options.refuse_others(
            &["--location", "--max-bytes-billed", "--query-timeout"],
            &format!("bigquery:{}", self.project),
        )?;
        let c = options.config;
        if let Some(location) = options.location.or(c.location.as_deref()) {
            let valid = !location.is_empty()
                && location
                    .chars()
                    .all(|ch| ch.is_ascii_alphanumeric() || ch == '-');
            if !valid {
                return Err(Error::usage(format!(
                    "location `{}` is not a BigQuery location (e.g. US, EU, europe-west2)",
                    crate::error::echo(location)
                )));
            }
            self.location = location.to_string();
        }
        self.max_bytes_billed = options.max_bytes_billed.or(c.max_bytes_billed);
        if let Some(n) = self.max_bytes_billed.filter(|n| *n <= 0) {
            return Err(Error::usage(format!(
                "--max-bytes-billed {n}: give a number of bytes above 0"
            )));
        }
        if let Some(t) = options.query_timeout.or(c.query_timeout.as_deref()) {
            self.query_timeout = parse_positive_duration("--query-timeout", t)?;
        }
        if let Some(n) = c.page_size {
            if n <= 0 {
                return Err(Error::config(format!(
                    "config: warehouse.page_size {n}: give a number of rows above 0"
                )));
            }
            self.page_size = Some(n);
        }
        self.datasets = DatasetNames::configure(c, options.catalog)?;
        self.api_url = options
            .env
            .get(defaults::env::BIGQUERY_API_URL)
            .map(str::to_string);
        if let Some(token) = options.env.get(defaults::env::BIGQUERY_TOKEN) {
            self.api_token = token.to_string();
        }
        Ok(self)
    }

    pub fn dialect(&self) -> BigQueryDialect {
        BigQueryDialect {
            project: self.project.clone(),
            location: self.location.clone(),
            datasets: self.datasets.clone(),
        }
    }
}

/// The real names of the catalog's datasets in a project (real projects rename them):
/// a per-dataset mapping, else a prefix, else the catalog's name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DatasetNames {
    pub prefix: String,
    pub map: BTreeMap<String, String>,
}

impl DatasetNames {
    /// `[warehouse] dataset_prefix` and `[warehouse.datasets]`, checked against the
    /// catalog's datasets.
    pub fn configure(c: &WarehouseConfig, catalog: &Catalog) -> Result<DatasetNames, Error> {
        let catalog_datasets: BTreeSet<&str> = catalog
            .processors()
            .map(|(_, p)| p.table.dataset())
            .chain([
                catalog.source.table.dataset(),
                catalog.processing.failures.dataset(),
                catalog.processing.attempts.dataset(),
            ])
            .collect();
        let is_name =
            |n: &str| !n.is_empty() && n.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '_');
        if !c.dataset_prefix.is_empty() && !is_name(&c.dataset_prefix) {
            return Err(Error::config(format!(
                "config: warehouse.dataset_prefix `{}` may hold letters, digits and _ only",
                c.dataset_prefix
            )));
        }
        for (logical, physical) in &c.datasets {
            if !catalog_datasets.contains(logical.as_str()) {
                return Err(Error::config(format!(
                    "config: warehouse.datasets.{logical}: the catalog has no dataset {logical} (it has {})",
                    catalog_datasets
                        .iter()
                        .copied()
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
            if !is_name(physical) {
                return Err(Error::config(format!(
                    "config: warehouse.datasets.{logical} = `{physical}` is not a dataset name (letters, digits and _)"
                )));
            }
        }
        Ok(DatasetNames {
            prefix: c.dataset_prefix.clone(),
            map: c.datasets.clone(),
        })
    }

    pub fn physical(&self, logical: &str) -> String {
        match self.map.get(logical) {
            Some(name) => name.clone(),
            None => format!("{}{logical}", self.prefix),
        }
    }

    /// The catalog's name of a real dataset, if it is one of the catalog's.
    pub fn logical(&self, physical: &str) -> String {
        if let Some((logical, _)) = self.map.iter().find(|(_, p)| p.as_str() == physical) {
            return logical.clone();
        }
        physical
            .strip_prefix(&self.prefix)
            .filter(|l| !self.map.contains_key(*l))
            .unwrap_or(physical)
            .to_string()
    }
}

/// SQL for BigQuery: the project qualifies every table, backticked names, `@name`
/// parameters, the location's INFORMATION_SCHEMA for the columns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BigQueryDialect {
    pub project: String,
    pub location: String,
    pub datasets: DatasetNames,
}

impl Dialect for BigQueryDialect {
    fn table(&self, table: &TableName) -> String {
        format!(
            "`{}.{}.{}`",
            self.project,
            self.datasets.physical(table.dataset()),
            table.table()
        )
    }

    fn column(&self, name: &str) -> String {
        format!("`{name}`")
    }

    fn columns_view(&self, datasets: &[String]) -> String {
        // Each dataset's own INFORMATION_SCHEMA: valid wherever the dataset lives, without
        // --location (the region's view needs it, and emulators do not answer it).
        let views: Vec<String> = datasets
            .iter()
            .map(|d| {
                format!(
                    "SELECT table_schema, table_name, column_name, data_type \
                     FROM `{}`.`{}`.INFORMATION_SCHEMA.COLUMNS",
                    self.project,
                    self.datasets.physical(d)
                )
            })
            .collect();
        format!("({})", views.join(" UNION ALL "))
    }

    fn placeholder(&self, name: &str, _index: usize) -> String {
        format!("@{name}")
    }

    fn function(&self, function: Function) -> &'static str {
        match function {
            Function::UnixMicros => "UNIX_MICROS",
        }
    }

    fn row_hash(&self, columns: &[String]) -> String {
        // The row as JSON text (arrays and NULLs included), fingerprinted to an INT64.
        format!(
            "FARM_FINGERPRINT(TO_JSON_STRING(STRUCT({})))",
            columns.join(", ")
        )
    }

    fn row_hash_kind(&self) -> String {
        "bigquery FARM_FINGERPRINT".into()
    }

    fn logical_dataset(&self, physical: &str) -> String {
        self.datasets.logical(physical)
    }
}

/// Server-side wait of one jobs.query / getQueryResults call (BigQuery caps it at 10 s
/// of useful waiting; the deadline is ours).
const POLL_WAIT: Duration = Duration::from_secs(10);

// Writes are the runner's own statements (the breaker reset, the lease), DML in `sql/`;
// the built-in processors are the embedded warehouse's only.
const CAPABILITIES: Capabilities = Capabilities {
    can_write: true,
    can_dry_run: true,
};

/// The engine: one client (credentials found once) and one runtime for every session.
pub struct BigQueryEngine {
    settings: BigQuerySettings,
    dialect: BigQueryDialect,
    client: Client,
    runtime: tokio::runtime::Runtime,
}

/// A fixed bearer token, for an emulator or a fake server.
#[derive(Clone)]
struct FixedToken(String);

#[async_trait::async_trait]
impl Authenticator for FixedToken {
    async fn access_token(&self) -> Result<String, BQError> {
        Ok(self.0.clone())
    }
}

const CREDENTIALS_HINT: &str = "set GOOGLE_APPLICATION_CREDENTIALS to a service-account key file (JSON), or run `gcloud auth application-default login`";

impl BigQueryEngine {
    /// Builds the client: a fixed token for another endpoint; else
    /// GOOGLE_APPLICATION_CREDENTIALS; else Application Default Credentials.
    pub fn connect(settings: &BigQuerySettings) -> Result<Self, Error> {
        // A worker of its own, so sessions on several threads (the runner's
        // verifications) can each block on a query.
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .map_err(|e| {
                Error::WarehouseUnavailable(format!("cannot start the HTTP runtime: {e}"))
            })?;
        let client = runtime.block_on(build_client(settings))?;
        // Once per command: every query and statement of the run shares this client.
        tracing::info!(project = %settings.project, "bigquery client built");
        Ok(BigQueryEngine {
            dialect: settings.dialect(),
            settings: settings.clone(),
            client,
            runtime,
        })
    }

    fn send(&self, query: &Query, dry_run: bool) -> Result<Answer, Error> {
        let rendered = query.render(&self.dialect).map_err(Error::internal)?;
        self.runtime
            .block_on(run_query(&self.client, &self.settings, &rendered, dry_run))
    }

    /// Every query as a job of its own, all in flight at once; the rows in query order.
    fn send_all(&self, queries: &[Query]) -> Vec<Result<Rows, Error>> {
        let started = Instant::now();
        let jobs: Vec<_> = queries
            .iter()
            .map(|query| {
                let rendered = query.render(&self.dialect).map_err(Error::internal)?;
                let (client, settings) = (self.client.clone(), self.settings.clone());
                Ok(self.runtime.spawn(async move {
                    let answer = run_query(&client, &settings, &rendered, false).await;
                    (answer, started.elapsed())
                }))
            })
            .collect();
        jobs.into_iter()
            .zip(queries)
            .map(|(job, query)| {
                let (answer, took) = self
                    .runtime
                    .block_on(job?)
                    .map_err(|e| Error::internal(format!("query {}: {e}", query.name)))?;
                let rows = answer?.rows;
                log_query(query.name, &rows, took);
                Ok(rows)
            })
            .collect()
    }
}

fn log_query(name: &str, rows: &Rows, took: std::time::Duration) {
    tracing::info!(
        query = name,
        rows = rows.rows.len(),
        ms = %format!("{:.1}", took.as_secs_f64() * 1000.0),
        "bigquery query"
    );
}

impl Engine for BigQueryEngine {
    fn describe(&self) -> String {
        format!("bigquery:{}", self.settings.project)
    }

    fn locator(&self) -> String {
        self.describe()
    }

    fn capabilities(&self) -> Capabilities {
        CAPABILITIES
    }

    fn session(&self, _access: Access) -> Result<Box<dyn Warehouse + '_>, Error> {
        Ok(Box::new(BigQuerySession {
            engine: self,
            queries: 0,
        }))
    }
}

/// A session: the engine's client, and a count of this session's queries.
struct BigQuerySession<'a> {
    engine: &'a BigQueryEngine,
    queries: usize,
}

impl Warehouse for BigQuerySession<'_> {
    fn describe(&self) -> String {
        self.engine.describe()
    }

    fn dialect(&self) -> &dyn Dialect {
        &self.engine.dialect
    }

    fn query(&mut self, query: &Query) -> Result<Rows, Error> {
        self.queries += 1;
        let started = std::time::Instant::now();
        let rows = self.engine.send(query, false).map(|answer| answer.rows)?;
        log_query(query.name, &rows, started.elapsed());
        Ok(rows)
    }

    fn query_all(&mut self, queries: &[Query]) -> Vec<Result<Rows, Error>> {
        self.queries += queries.len();
        self.engine.send_all(queries)
    }

    fn queries_run(&self) -> usize {
        self.queries
    }

    fn dry_run(&mut self, query: &Query) -> Result<i64, Error> {
        self.queries += 1;
        self.engine.send(query, true).map(|answer| answer.bytes)
    }

    /// A DML or DDL statement as a query job; BigQuery runs a retried one once (its
    /// request id), and answers the rows it changed.
    fn execute(&mut self, query: &Query) -> Result<u64, Error> {
        self.queries += 1;
        let started = std::time::Instant::now();
        let affected = self.engine.send(query, false)?.affected;
        tracing::info!(
            statement = query.name,
            rows = affected,
            ms = %format!("{:.1}", started.elapsed().as_secs_f64() * 1000.0),
            "bigquery statement"
        );
        Ok(affected)
    }
}

/// Does `sql` change rows (UPDATE, INSERT, DELETE, MERGE), rather than read or define?
fn is_dml(sql: &str) -> bool {
    let first = sql.split_whitespace().next().unwrap_or("");
    ["UPDATE", "INSERT", "DELETE", "MERGE"]
        .iter()
        .any(|k| first.eq_ignore_ascii_case(k))
}

async fn build_client(settings: &BigQuerySettings) -> Result<Client, Error> {
    let mut builder = ClientBuilder::new();
    if let Some(url) = &settings.api_url {
        builder.with_v2_base_url(url.trim_end_matches('/').to_string());
        return builder
            .build_from_authenticator(Arc::new(FixedToken(settings.api_token.clone())))
            .await
            .map_err(|e| Error::WarehouseUnavailable(format!("BigQuery at {url}: {e}")));
    }
    let adc_file = std::env::var_os("HOME")
        .map(|h| PathBuf::from(h).join(".config/gcloud/application_default_credentials.json"));
    match std::env::var("GOOGLE_APPLICATION_CREDENTIALS") {
        Ok(path) if !path.is_empty() => {
            if !std::path::Path::new(&path).is_file() {
                return Err(Error::WarehouseUnavailable(format!(
                    "GOOGLE_APPLICATION_CREDENTIALS is {path}, which is not a file: {CREDENTIALS_HINT}"
                )));
            }
            builder
                .build_from_application_default_credentials()
                .await
                .map_err(|e| {
                    Error::WarehouseUnavailable(format!(
                        "GOOGLE_APPLICATION_CREDENTIALS ({path}) is not a usable key file: {e}"
                    ))
                })
        }
        _ if adc_file.as_ref().is_some_and(|f| f.is_file()) || on_google_cloud().await => builder
            .build_from_application_default_credentials()
            .await
            .map_err(|e| {
                Error::WarehouseUnavailable(format!(
                    "Application Default Credentials are not usable ({e}): {CREDENTIALS_HINT}"
                ))
            }),
        _ => Err(Error::WarehouseUnavailable(format!(
            "no Google credentials found for BigQuery: {CREDENTIALS_HINT}"
        ))),
    }
}

/// Whether the metadata server of Google Cloud (its credentials) answers, briefly.
async fn on_google_cloud() -> bool {
    let connect = tokio::net::TcpStream::connect("metadata.google.internal:80");
    matches!(
        tokio::time::timeout(Duration::from_millis(800), connect).await,
        Ok(Ok(_))
    )
}

fn parameter(name: &str, value: &Param) -> QueryParameter {
    let (ty, text) = match value {
        Param::Date(d) => ("DATE", d.format("%Y-%m-%d").to_string()),
        Param::Text(t) => ("STRING", t.clone()),
        Param::Int(i) => ("INT64", i.to_string()),
        Param::Float(f) => ("FLOAT64", f.to_string()),
        Param::Timestamp(t) => ("TIMESTAMP", t.format("%Y-%m-%d %H:%M:%S%.6f").to_string()),
    };
    QueryParameter {
        name: Some(name.to_string()),
        parameter_type: Some(QueryParameterType {
            r#type: ty.to_string(),
            ..Default::default()
        }),
        parameter_value: Some(QueryParameterValue {
            value: Some(text),
            ..Default::default()
        }),
    }
}

/// What one query returned: all its rows, and the bytes BigQuery processed (or would).
struct Answer {
    rows: Rows,
    bytes: i64,
    /// The rows a DML statement changed, as BigQuery counts them (0 for a query or DDL).
    affected: u64,
}

/// Why a request failed, and whether another attempt may succeed.
struct Failure {
    message: String,
    retryable: bool,
    /// The request named something that does not exist (a dataset): bad input, exit 2.
    not_found: bool,
}

fn classify(error: &BQError) -> Failure {
    match error {
        BQError::ResponseError { error } => {
            let e = &error.error;
            let reason = e
                .errors
                .first()
                .and_then(|r| r.get("reason"))
                .cloned()
                .unwrap_or_default();
            let retryable = e.code >= 500
                || e.code == 429
                || matches!(
                    reason.as_str(),
                    "rateLimitExceeded" | "backendError" | "internalError"
                );
            let what = if reason.is_empty() {
                e.code.to_string()
            } else {
                format!("{} {reason}", e.code)
            };
            Failure {
                message: format!("BigQuery replied {what}: {}", e.message),
                retryable,
                not_found: e.code == 404 && e.message.starts_with("Not found: Dataset"),
            }
        }
        BQError::RequestError(e) => Failure {
            message: format!("BigQuery request failed: {}", with_causes(e)),
            retryable: e.is_timeout() || e.is_connect() || e.is_decode() || e.is_request(),
            not_found: false,
        },
        auth @ (BQError::YupAuthError(_) | BQError::AuthError(_)) => Failure {
            message: format!("Google credentials were refused ({auth}): {CREDENTIALS_HINT}"),
            retryable: false,
            not_found: false,
        },
        other => Failure {
            message: format!("BigQuery: {other}"),
            retryable: false,
            not_found: false,
        },
    }
}

/// An error and its causes (`connection refused` is a cause of reqwest's error).
fn with_causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(c) = cause {
        let next = c.to_string();
        if !text.contains(&next) {
            text.push_str(": ");
            text.push_str(&next);
        }
        cause = c.source();
    }
    text
}

/// Runs `call` until it succeeds, fails for good, or `max_attempts` are spent; each
/// attempt is bounded by what is left of the deadline.
async fn with_retries<T, F, Fut>(
    settings: &BigQuerySettings,
    what: &str,
    deadline: Instant,
    mut call: F,
) -> Result<T, Error>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, BQError>>,
{
    let mut delay = settings.retry_backoff;
    let mut attempt = 1;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let failure = match tokio::time::timeout(left, call()).await {
            Ok(Ok(value)) => return Ok(value),
            Ok(Err(e)) => classify(&e),
            Err(_) => Failure {
                message: format!(
                    "no reply within {}",
                    humantime::format_duration(settings.query_timeout)
                ),
                retryable: false,
                not_found: false,
            },
        };
        if failure.not_found {
            return Err(Error::usage(format!(
                "{what}: {} (the datasets of the catalog and of [repair] lease_table, renamed by dataset_prefix or [warehouse.datasets] in phase4.toml, must exist in the project)",
                failure.message
            )));
        }
        let out_of_time = Instant::now() + delay >= deadline;
        if !failure.retryable || attempt >= settings.max_attempts || out_of_time {
            let tries = if attempt > 1 {
                format!(" (after {attempt} attempts)")
            } else {
                String::new()
            };
            return Err(Error::QueryFailed(format!(
                "{what}: {}{tries}",
                failure.message
            )));
        }
        tokio::time::sleep(delay).await;
        delay *= 2;
        attempt += 1;
    }
}

/// Job errors inside a 200 reply.
fn job_errors(what: &str, job: &str, errors: Option<&Vec<ErrorProto>>) -> Result<(), Error> {
    match errors {
        Some(list) if !list.is_empty() => {
            let text: Vec<String> = list
                .iter()
                .map(|e| {
                    format!(
                        "{}{}",
                        e.reason
                            .as_deref()
                            .map(|r| format!("{r}: "))
                            .unwrap_or_default(),
                        e.message.as_deref().unwrap_or("no message")
                    )
                })
                .collect();
            Err(Error::QueryFailed(format!(
                "{what}: BigQuery job {job} failed: {}",
                text.join("; ")
            )))
        }
        _ => Ok(()),
    }
}

async fn run_query(
    client: &Client,
    settings: &BigQuerySettings,
    rendered: &RenderedQuery,
    dry_run: bool,
) -> Result<Answer, Error> {
    let what = format!("query {}", rendered.name);
    let started = Instant::now();
    let deadline = started + settings.query_timeout;
    let wait_ms = |deadline: Instant| -> i32 {
        deadline
            .saturating_duration_since(Instant::now())
            .min(POLL_WAIT)
            .as_millis() as i32
    };
    let mut request = QueryRequest::new(rendered.sql.clone());
    request.parameter_mode = Some("NAMED".into());
    request.query_parameters = Some(
        rendered
            .params
            .iter()
            .map(|(n, v)| parameter(n, v))
            .collect(),
    );
    request.location = Some(settings.location.clone());
    request.max_results = settings.page_size;
    request.maximum_bytes_billed = settings.max_bytes_billed.map(|b| b.to_string());
    request.timeout_ms = Some(wait_ms(deadline));
    // TIMESTAMPs as exact integer microseconds. The client sends getQueryResults'
    // options as URL parameters, where it cannot nest this one: later pages may come
    // as float seconds, which `timestamp_micros` reads too.
    request.format_options = Some(DataFormatOptions {
        use_int64_timestamp: Some(true),
    });
    if dry_run {
        request.dry_run = Some(true);
    }
    // The same id on every retry: BigQuery runs a retried jobs.query once.
    request.request_id = Some(format!("phase4-check-{:032x}", rand::random::<u128>()));
    let project = settings.project.as_str();
    let first: QueryResponse = with_retries(settings, &what, deadline, || {
        client.job().query(project, request.clone())
    })
    .await?;
    let job = first
        .job_reference
        .as_ref()
        .and_then(|r| r.job_id.clone())
        .unwrap_or_else(|| "(no job id)".into());
    job_errors(&what, &job, first.errors.as_ref())?;
    let bytes = first
        .total_bytes_processed
        .as_deref()
        .and_then(|b| b.parse().ok())
        .unwrap_or(0);
    if dry_run {
        return Ok(Answer {
            rows: Rows::default(),
            bytes,
            affected: 0,
        });
    }
    let location = first
        .job_reference
        .as_ref()
        .and_then(|r| r.location.clone())
        .or_else(|| Some(settings.location.clone()));

    let mut complete = first.job_complete == Some(true);
    let mut affected = first.num_dml_affected_rows;
    let mut schema = first.schema;
    let mut raw = first.rows.unwrap_or_default();
    let mut token = first.page_token;
    // Until the job completes, then while there are pages: one bounded request each.
    let too_slow = |complete: bool| {
        Error::QueryFailed(format!(
            "{what}: BigQuery job {job} did not {} within {} (it may still be running: `bq show -j {job}`); raise --query-timeout",
            if complete {
                "return all its pages"
            } else {
                "complete"
            },
            humantime::format_duration(settings.query_timeout)
        ))
    };
    while !complete || token.is_some() {
        if Instant::now() >= deadline {
            return Err(too_slow(complete));
        }
        let params = GetQueryResultsParameters {
            location: location.clone(),
            max_results: settings.page_size,
            page_token: token.clone(),
            timeout_ms: Some(wait_ms(deadline)),
            ..Default::default()
        };
        let page = match with_retries(settings, &what, deadline, || {
            client
                .job()
                .get_query_results(project, &job, params.clone())
        })
        .await
        {
            Ok(page) => page,
            // The deadline ran out during the request: the job is what was slow.
            Err(_) if Instant::now() >= deadline => return Err(too_slow(complete)),
            Err(e) => return Err(e),
        };
        job_errors(&what, &job, page.errors.as_ref())?;
        if page.job_complete != Some(true) {
            continue;
        }
        if !complete {
            // The first complete reply: its schema, its rows, its next page.
            complete = true;
            affected = page.num_dml_affected_rows;
            schema = page.schema;
            raw = page.rows.unwrap_or_default();
        } else {
            raw.extend(page.rows.unwrap_or_default());
        }
        token = page.page_token;
    }
    let rows = convert(&what, schema.as_ref(), raw)?;
    // A DML statement's count decides (a lease taken, breakers reset): never guessed.
    let affected = match affected.as_deref().and_then(|n| n.parse().ok()) {
        Some(n) => n,
        None if !is_dml(&rendered.sql) => 0,
        None => {
            return Err(Error::QueryFailed(format!(
                "{what}: BigQuery answered no count of the rows it changed"
            )));
        }
    };
    Ok(Answer {
        rows,
        bytes,
        affected,
    })
}

/// BigQuery's REST rows (every value a string or null) as typed values, by the schema.
fn convert(
    what: &str,
    schema: Option<&TableSchema>,
    raw: Vec<gcp_bigquery_client::model::table_row::TableRow>,
) -> Result<Rows, Error> {
    let fields = schema.and_then(|s| s.fields.clone()).unwrap_or_default();
    let columns: Vec<String> = fields.iter().map(|f| f.name.clone()).collect();
    let bad = |column: &str, text: &str| {
        Error::QueryFailed(format!(
            "{what}: BigQuery returned `{text}` in column {column}, which is not of its type"
        ))
    };
    let mut rows = Vec::with_capacity(raw.len());
    for row in raw {
        let cells = row.columns.unwrap_or_default();
        let mut values = Vec::with_capacity(fields.len());
        for (i, field) in fields.iter().enumerate() {
            let cell = cells.get(i).and_then(|c| c.value.clone());
            let text = match cell {
                None | Some(serde_json::Value::Null) => {
                    values.push(Value::Null);
                    continue;
                }
                Some(serde_json::Value::String(s)) => s,
                Some(other) => other.to_string(),
            };
            let value = match field.r#type {
                FieldType::Integer | FieldType::Int64 => {
                    Value::Int(text.parse().map_err(|_| bad(&field.name, &text))?)
                }
                FieldType::Float
                | FieldType::Float64
                | FieldType::Numeric
                | FieldType::Bignumeric => {
                    let f: f64 = text.parse().map_err(|_| bad(&field.name, &text))?;
                    if f.fract() == 0.0 && f.abs() < 9.0e15 {
                        Value::Int(f as i64)
                    } else {
                        Value::Float(f)
                    }
                }
                FieldType::Boolean | FieldType::Bool => Value::Bool(text == "true"),
                FieldType::Date => Value::Date(
                    chrono::NaiveDate::parse_from_str(&text, "%Y-%m-%d")
                        .map_err(|_| bad(&field.name, &text))?,
                ),
                FieldType::Timestamp => {
                    Value::Int(timestamp_micros(&text).ok_or_else(|| bad(&field.name, &text))?)
                }
                _ => Value::Text(text),
            };
            values.push(value);
        }
        rows.push(values);
    }
    Ok(Rows { columns, rows })
}

/// A TIMESTAMP cell in microseconds since the epoch: integer microseconds
/// (`useInt64Timestamp`), or BigQuery's default float seconds (`1.6410384005E9`, always
/// written with a point or an exponent, so an integer is never read as seconds).
fn timestamp_micros(text: &str) -> Option<i64> {
    if let Ok(micros) = text.parse::<i64>() {
        return Some(micros);
    }
    let secs: f64 = text.parse().ok().filter(|s: &f64| s.is_finite())?;
    Some((secs * 1_000_000.0).round() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_read_as_integer_microseconds_or_float_seconds_alike() {
        let micros = 1_641_038_400_500_000;
        assert_eq!(timestamp_micros("1641038400500000"), Some(micros));
        assert_eq!(timestamp_micros("1.6410384005E9"), Some(micros));
        assert_eq!(timestamp_micros("1641038400.5"), Some(micros));
        assert_eq!(timestamp_micros("-1.5E0"), Some(-1_500_000));
        assert_eq!(timestamp_micros("NaN"), None);
        assert_eq!(timestamp_micros("soon"), None);
    }

    #[test]
    fn bigquery_keeps_named_parameters_qualifies_tables_and_renames_datasets() {
        let table = TableName::parse("nba_precompute.player_daily_cache").unwrap();
        let q = Query::new("t", "SELECT UNIX_MICROS(x) FROM {{t}} WHERE d = @start")
            .table("t", &table)
            .param("start", Param::Int(1));
        let r = q.render(&BigQuerySettings::new("proj").dialect()).unwrap();
        assert_eq!(
            r.sql,
            "SELECT UNIX_MICROS(x) FROM `proj.nba_precompute.player_daily_cache` WHERE d = @start"
        );
        let mut datasets = DatasetNames {
            prefix: "dev_".into(),
            ..Default::default()
        };
        datasets
            .map
            .insert("nba_precompute".into(), "precompute_v2".into());
        let mapped = BigQueryDialect {
            project: "proj".into(),
            location: "EU".into(),
            datasets: datasets.clone(),
        };
        assert!(
            q.render(&mapped)
                .unwrap()
                .sql
                .contains("`proj.precompute_v2.player_daily_cache`")
        );
        assert_eq!(datasets.physical("nba_analytics"), "dev_nba_analytics");
        assert_eq!(datasets.logical("dev_nba_analytics"), "nba_analytics");
        assert_eq!(datasets.logical("precompute_v2"), "nba_precompute");
        let columns = Query::new("c", "SELECT * FROM {{columns}}").columns_view(
            "columns",
            &["nba_analytics".into(), "nba_precompute".into()],
        );
        assert_eq!(
            columns.render(&mapped).unwrap().sql,
            "SELECT * FROM (SELECT table_schema, table_name, column_name, data_type \
             FROM `proj`.`dev_nba_analytics`.INFORMATION_SCHEMA.COLUMNS UNION ALL \
             SELECT table_schema, table_name, column_name, data_type \
             FROM `proj`.`precompute_v2`.INFORMATION_SCHEMA.COLUMNS)"
        );
    }
}
