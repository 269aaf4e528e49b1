//! A fake BigQuery on 127.0.0.1 for the tests: it speaks the REST calls the client makes
//! (POST .../projects/P/queries, GET .../projects/P/queries/JOB with pageToken), answers
//! with Google's JSON shapes (rows of strings, a schema, errors in Google's error body),
//! and runs the real check SQL it receives on a DuckDB file, so the numbers are real;
//! DML and DDL (the breaker reset, the lease) change that file and answer
//! `numDmlAffectedRows`.
//!
//! BigQuery SQL becomes DuckDB SQL by the small steps a reader can check here:
//! `` `p.dataset.table` `` -> `"dataset"."table"`, a dataset's INFORMATION_SCHEMA.COLUMNS
//! -> information_schema.columns, `@name` -> a `?` cast to the parameter's declared
//! type, UNIX_MICROS -> epoch_us, and the row hash of the content fingerprint (see
//! `row_hashes`).

use serde_json::{Value, json};
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::http_server::{Request, Server};

/// What the fake does besides answering.
#[derive(Debug, Clone, Default)]
pub struct Behaviour {
    /// Rows per page when the client does not ask for a size.
    pub page_size: Option<usize>,
    /// Answer this many next requests with a 500 backendError.
    pub fail_with_500: u32,
    /// Answer every query with a 403 quotaExceeded.
    pub quota_exceeded: bool,
    /// Jobs never complete.
    pub never_complete: bool,
    /// Jobs complete with an error inside a 200 reply.
    pub job_error: bool,
    /// The real datasets are named with this prefix (dev_nba_precompute, ...).
    pub dataset_prefix: String,
    /// DML and DDL are refused with 403 accessDenied (credentials that may only read).
    pub refuse_writes: bool,
    /// Each jobs.query call is answered this long after it arrived (the server answers
    /// requests side by side, so overlapping queries overlap their delays too).
    pub query_delay: Option<Duration>,
}

/// One request the fake received.
#[derive(Debug, Clone)]
pub struct Received {
    pub method: String,
    pub url: String,
    pub authorization: Option<String>,
    pub body: Value,
    /// When it arrived and when it was answered.
    pub arrived: Instant,
    pub answered: Option<Instant>,
}

struct Job {
    schema: Value,
    rows: Vec<Value>,
}

struct State {
    behaviour: Behaviour,
    received: Vec<Received>,
    jobs: HashMap<String, Job>,
    next_job: u64,
}

pub struct FakeBigQuery {
    pub url: String,
    state: Arc<Mutex<State>>,
    _server: Server,
}

impl FakeBigQuery {
    /// Serves the DuckDB file at `path` (opened read-only for each request, so other
    /// processes may write it between requests).
    pub fn start(path: &Path, behaviour: Behaviour) -> FakeBigQuery {
        let state = Arc::new(Mutex::new(State {
            behaviour,
            received: Vec::new(),
            jobs: HashMap::new(),
            next_job: 1,
        }));
        let (st, db) = (state.clone(), path.to_path_buf());
        // A thread per connection, as a real server answers concurrent jobs side by side.
        let server = Server::start(move |request| {
            let arrived = Instant::now();
            let (status, body) = handle(&st, &db, request, arrived);
            let mut st = st.lock().unwrap();
            if let Some(r) = st.received.iter_mut().find(|r| r.arrived == arrived) {
                r.answered = Some(Instant::now());
            }
            (status, body.to_string())
        });
        FakeBigQuery {
            url: format!("http://127.0.0.1:{}/bigquery/v2", server.port),
            state,
            _server: server,
        }
    }

    pub fn received(&self) -> Vec<Received> {
        self.state.lock().unwrap().received.clone()
    }

    pub fn set(&self, change: impl FnOnce(&mut Behaviour)) {
        change(&mut self.state.lock().unwrap().behaviour);
    }
}

fn google_error(code: u16, reason: &str, message: &str, status: &str) -> (u16, Value) {
    (
        code,
        json!({"error": {"code": code, "message": message, "status": status,
            "errors": [{"reason": reason, "message": message, "domain": "global"}]}}),
    )
}

fn handle(state: &Mutex<State>, db: &Path, request: Request, arrived: Instant) -> (u16, Value) {
    let authorization = request.header("authorization").map(str::to_string);
    let received = Received {
        method: request.method,
        url: request.url,
        authorization: authorization.clone(),
        body: serde_json::from_str(&request.body).unwrap_or(Value::Null),
        arrived,
        answered: None,
    };
    let delay = state.lock().unwrap().behaviour.query_delay;
    if let Some(delay) = delay.filter(|_| received.method == "POST") {
        std::thread::sleep(delay);
    }
    let mut st = state.lock().unwrap();
    st.received.push(received.clone());
    if authorization
        .as_deref()
        .is_none_or(|a| !a.starts_with("Bearer "))
    {
        return google_error(
            401,
            "authError",
            "Request is missing a bearer token",
            "UNAUTHENTICATED",
        );
    }
    if st.behaviour.fail_with_500 > 0 {
        st.behaviour.fail_with_500 -= 1;
        return google_error(500, "backendError", "Backend error. Retry.", "INTERNAL");
    }
    let (path, query) = received.url.split_once('?').unwrap_or((&received.url, ""));
    let params: HashMap<String, String> = query
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_string(), v.replace("%3D", "=")))
        .collect();
    let Some(rest) = path.strip_prefix("/bigquery/v2/projects/") else {
        return google_error(404, "notFound", "Not found", "NOT_FOUND");
    };
    let parts: Vec<&str> = rest.split('/').collect();
    match (received.method.as_str(), parts.as_slice()) {
        ("POST", [_project, "queries"]) => post_query(&mut st, db, &received.body),
        ("GET", [_project, "queries", job]) => {
            if st.behaviour.never_complete {
                drop(st);
                std::thread::sleep(Duration::from_millis(100));
                return (
                    200,
                    json!({"kind": "bigquery#getQueryResultsResponse",
                    "jobReference": {"jobId": job, "location": "US"}, "jobComplete": false}),
                );
            }
            let size = params
                .get("maxResults")
                .and_then(|m| m.parse().ok())
                .or(st.behaviour.page_size);
            let offset = params
                .get("pageToken")
                .and_then(|t| t.parse().ok())
                .unwrap_or(0);
            match st.jobs.get(*job) {
                Some(j) => (200, page(j, job, offset, size)),
                None => google_error(
                    404,
                    "notFound",
                    &format!("Not found: Job {job}"),
                    "NOT_FOUND",
                ),
            }
        }
        _ => google_error(404, "notFound", "Not found", "NOT_FOUND"),
    }
}

fn page(job: &Job, id: &str, offset: usize, size: Option<usize>) -> Value {
    let end = size
        .map(|s| (offset + s).min(job.rows.len()))
        .unwrap_or(job.rows.len());
    let mut reply = json!({
        "kind": "bigquery#getQueryResultsResponse",
        "jobReference": {"projectId": "fake", "jobId": id, "location": "US"},
        "jobComplete": true,
        "schema": job.schema,
        "totalRows": job.rows.len().to_string(),
        "rows": job.rows[offset.min(end)..end],
    });
    if end < job.rows.len() {
        reply["pageToken"] = json!(end.to_string());
    }
    reply
}

fn post_query(st: &mut State, db: &Path, body: &Value) -> (u16, Value) {
    if st.behaviour.quota_exceeded {
        return google_error(
            403,
            "quotaExceeded",
            "Quota exceeded: Your project exceeded quota for free query bytes scanned.",
            "PERMISSION_DENIED",
        );
    }
    let sql = body["query"].as_str().unwrap_or_default();
    let conn = match open(db, false) {
        Ok(c) => c,
        Err(e) => return google_error(500, "backendError", &e, "INTERNAL"),
    };
    let schemas = match schemas_of(&conn) {
        Ok(s) => s,
        Err(e) => return google_error(500, "backendError", &e, "INTERNAL"),
    };
    let (duck_sql, binds) = match to_duckdb(
        sql,
        &body["queryParameters"],
        &st.behaviour.dataset_prefix,
        &schemas,
    ) {
        Ok(t) => t,
        Err(e) if e.starts_with("Not found: Dataset") => {
            return google_error(404, "notFound", &e, "NOT_FOUND");
        }
        Err(e) => return google_error(400, "invalidQuery", &e, "INVALID_ARGUMENT"),
    };
    let id = format!("job_fake_{}", st.next_job);
    st.next_job += 1;
    let bytes = scanned_bytes(&conn, &duck_sql);
    if body["dryRun"] == json!(true) || body["maximumBytesBilled"].is_string() {
        if body["dryRun"] == json!(true) {
            return (
                200,
                json!({"kind": "bigquery#queryResponse", "jobComplete": true,
                "jobReference": {"projectId": "fake", "location": "US"},
                "totalBytesProcessed": bytes.to_string(), "cacheHit": false}),
            );
        }
        let cap: i64 = body["maximumBytesBilled"]
            .as_str()
            .unwrap_or("0")
            .parse()
            .unwrap_or(0);
        if bytes > cap {
            return google_error(
                400,
                "bytesBilledLimitExceeded",
                &format!(
                    "Query exceeded limit for bytes billed: {cap}. {bytes} or higher required."
                ),
                "INVALID_ARGUMENT",
            );
        }
    }
    if let Some(kind) = statement_type(sql).filter(|_| st.behaviour.refuse_writes) {
        return google_error(
            403,
            "accessDenied",
            &format!(
                "Access Denied: {kind} refused: User does not have bigquery.tables.updateData permission"
            ),
            "PERMISSION_DENIED",
        );
    }
    if let Some(kind) = statement_type(sql) {
        // DML and DDL change the file: run on a connection that writes, and answer as
        // BigQuery does, with the rows changed and no result rows.
        drop(conn);
        let changed = open(db, true).and_then(|c| {
            c.execute(&duck_sql, duckdb::params_from_iter(binds.iter()))
                .map_err(|e| e.to_string())
        });
        return match changed {
            Ok(n) => (
                200,
                json!({"kind": "bigquery#queryResponse", "jobComplete": true,
                "jobReference": {"projectId": "fake", "jobId": id, "location": "US"},
                "statementType": kind, "numDmlAffectedRows": n.to_string(),
                "totalBytesProcessed": bytes.to_string()}),
            ),
            Err(e) => google_error(400, "invalidQuery", &e, "INVALID_ARGUMENT"),
        };
    }
    let job = match run(&conn, &duck_sql, &binds) {
        Ok(j) => j,
        Err(e) => return google_error(400, "invalidQuery", &e, "INVALID_ARGUMENT"),
    };
    if st.behaviour.job_error {
        return (
            200,
            json!({"kind": "bigquery#queryResponse", "jobComplete": true,
            "jobReference": {"projectId": "fake", "jobId": id, "location": "US"},
            "errors": [{"reason": "resourcesExceeded", "message": "Resources exceeded during query execution"}]}),
        );
    }
    if st.behaviour.never_complete {
        return (
            200,
            json!({"kind": "bigquery#queryResponse", "jobComplete": false,
            "jobReference": {"projectId": "fake", "jobId": id, "location": "US"}}),
        );
    }
    let size = body["maxResults"]
        .as_u64()
        .map(|m| m as usize)
        .or(st.behaviour.page_size);
    let mut reply = page(&job, &id, 0, size);
    reply["kind"] = json!("bigquery#queryResponse");
    reply["totalBytesProcessed"] = json!(bytes.to_string());
    st.jobs.insert(id, job);
    (200, reply)
}

/// Opens the file read-only, or for writing, waiting while another process (a
/// processor) holds it.
fn open(db: &Path, write: bool) -> Result<duckdb::Connection, String> {
    let mut last = String::new();
    for _ in 0..200 {
        let config = duckdb::Config::default()
            .access_mode(if write {
                duckdb::AccessMode::ReadWrite
            } else {
                duckdb::AccessMode::ReadOnly
            })
            .map_err(|e| e.to_string())?;
        match duckdb::Connection::open_with_flags(db, config) {
            Ok(c) => return Ok(c),
            Err(e) => last = e.to_string(),
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Err(format!("cannot open {}: {last}", db.display()))
}

/// BigQuery's statement type of a DML or DDL statement (`UPDATE`, `CREATE_TABLE`...),
/// `None` for a query: the first word after the comments.
fn statement_type(sql: &str) -> Option<&'static str> {
    let first = sql
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("--"))
        .flat_map(str::split_whitespace)
        .next()?
        .to_ascii_uppercase();
    match first.as_str() {
        "UPDATE" => Some("UPDATE"),
        "INSERT" => Some("INSERT"),
        "DELETE" => Some("DELETE"),
        "MERGE" => Some("MERGE"),
        "CREATE" => Some("CREATE_TABLE"),
        _ => None,
    }
}

/// The bytes a query scans, as the fake bills them: the estimated size of every table it
/// reads (rows x columns x 8 bytes), and 10 MiB for INFORMATION_SCHEMA as BigQuery does.
fn scanned_bytes(conn: &duckdb::Connection, duck_sql: &str) -> i64 {
    let mut bytes = 0;
    if duck_sql.contains("information_schema.columns") {
        bytes += 10 * 1024 * 1024;
    }
    let mut stmt = conn
        .prepare(
            "SELECT schema_name, table_name, estimated_size, column_count FROM duckdb_tables()",
        )
        .unwrap();
    let tables: Vec<(String, String, i64, i64)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .map(|r| r.unwrap())
        .collect();
    for (schema, table, rows, columns) in tables {
        if duck_sql.contains(&format!("\"{schema}\".\"{table}\"")) {
            bytes += rows * columns * 8;
        }
    }
    bytes
}

/// The schemas of the DuckDB file: the datasets of the fake project.
fn schemas_of(conn: &duckdb::Connection) -> Result<Vec<String>, String> {
    let mut stmt = conn
        .prepare("SELECT DISTINCT schema_name FROM duckdb_schemas() WHERE database_name = current_database()")
        .map_err(|e| e.to_string())?;
    let rows = stmt
        .query_map([], |r| r.get::<_, String>(0))
        .map_err(|e| e.to_string())?;
    rows.collect::<Result<_, _>>().map_err(|e| e.to_string())
}

/// `.INFORMATION_SCHEMA.COLUMNS` after a dataset's backticked name.
const COLUMNS_VIEW: &str = ".INFORMATION_SCHEMA.COLUMNS";

/// BigQuery SQL and typed parameters to DuckDB SQL and the values to bind, in order;
/// `schemas` are the datasets that exist.
fn to_duckdb(
    sql: &str,
    parameters: &Value,
    prefix: &str,
    schemas: &[String],
) -> Result<(String, Vec<String>), String> {
    let mut types = HashMap::new();
    let mut values = HashMap::new();
    for p in parameters.as_array().cloned().unwrap_or_default() {
        let name = p["name"]
            .as_str()
            .ok_or("a parameter without a name")?
            .to_string();
        let ty = p["parameterType"]["type"]
            .as_str()
            .ok_or("a parameter without a type")?;
        let cast = match ty {
            "DATE" => "DATE",
            "INT64" => "BIGINT",
            "FLOAT64" => "DOUBLE",
            "STRING" => "VARCHAR",
            "TIMESTAMP" => "TIMESTAMP",
            other => return Err(format!("parameter {name}: type {other} is not handled")),
        };
        types.insert(name.clone(), cast);
        values.insert(
            name,
            p["parameterValue"]["value"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        );
    }
    let columns_view = "information_schema.columns";
    let mut out = String::new();
    let mut binds = Vec::new();
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                out.push(c);
                for c2 in chars.by_ref() {
                    out.push(c2);
                    if c2 == '\'' {
                        break;
                    }
                }
            }
            '`' => {
                let mut ident = String::new();
                for c2 in chars.by_ref() {
                    if c2 == '`' {
                        break;
                    }
                    ident.push(c2);
                }
                let parts: Vec<&str> = ident.split('.').collect();
                match parts.as_slice() {
                    [_project, dataset, table] => {
                        let schema = dataset.strip_prefix(prefix).unwrap_or(dataset);
                        out.push_str(&format!("\"{schema}\".\"{table}\""));
                    }
                    [dataset]
                        if chars
                            .clone()
                            .take(COLUMNS_VIEW.len())
                            .collect::<String>()
                            .eq_ignore_ascii_case(COLUMNS_VIEW) =>
                    {
                        // `project`.`dataset`.INFORMATION_SCHEMA.COLUMNS: one dataset's
                        // columns; BigQuery answers 404 for a dataset that does not exist.
                        chars.by_ref().take(COLUMNS_VIEW.len()).for_each(drop);
                        // With a prefix, only the prefixed datasets exist.
                        let schema = dataset.strip_prefix(prefix).filter(|_| !prefix.is_empty());
                        let schema = if prefix.is_empty() {
                            Some(*dataset)
                        } else {
                            schema
                        };
                        let Some(schema) = schema.filter(|s| schemas.iter().any(|x| x == s)) else {
                            return Err(format!("Not found: Dataset fake-project:{dataset}"));
                        };
                        // BigQuery's names of the types (STRING, INT64...), not DuckDB's.
                        out.push_str(&format!(
                            "(SELECT '{prefix}' || table_schema AS table_schema, table_name, column_name, \
                             CASE data_type WHEN 'VARCHAR' THEN 'STRING' WHEN 'INTEGER' THEN 'INT64' \
                             WHEN 'BIGINT' THEN 'INT64' WHEN 'DOUBLE' THEN 'FLOAT64' \
                             WHEN 'BOOLEAN' THEN 'BOOL' WHEN 'DOUBLE[]' THEN 'ARRAY<FLOAT64>' \
                             ELSE data_type END AS data_type FROM {columns_view} \
                             WHERE table_schema = '{schema}')"
                        ));
                    }
                    [_project] if chars.peek() == Some(&'.') => {
                        chars.next();
                    }
                    _ => out.push_str(&format!("\"{ident}\"")),
                }
            }
            '@' => {
                let mut name = String::new();
                while let Some(&n) = chars.peek() {
                    if n.is_ascii_alphanumeric() || n == '_' {
                        name.push(n);
                        chars.next();
                    } else {
                        break;
                    }
                }
                let cast = types
                    .get(&name)
                    .ok_or(format!("Query parameter '{name}' not found"))?;
                out.push_str(&format!("CAST(? AS {cast})"));
                binds.push(values[&name].clone());
            }
            _ => out.push(c),
        }
    }
    // The content fingerprint: BigQuery's FARM_FINGERPRINT(TO_JSON_STRING(STRUCT(...)))
    // becomes DuckDB's hash of the same JSON text (the values differ from BigQuery's;
    // fingerprints are compared only with the same engine's).
    Ok((row_hashes(&out).replace("UNIX_MICROS(", "epoch_us("), binds))
}

/// `FARM_FINGERPRINT(TO_JSON_STRING(STRUCT(cols)))` -> `hash(row(cols))` (DuckDB reads no
/// VARCHAR))`: the columns are quoted names, so the first `)))` closes the call.
fn row_hashes(sql: &str) -> String {
    const CALL: &str = "FARM_FINGERPRINT(TO_JSON_STRING(STRUCT(";
    let mut out = String::with_capacity(sql.len());
    let mut rest = sql;
    while let Some(start) = rest.find(CALL) {
        let args = &rest[start + CALL.len()..];
        let Some(end) = args.find(")))") else { break };
        out.push_str(&rest[..start]);
        out.push_str(&format!("hash(row({}))", &args[..end]));
        rest = &args[end + 3..];
    }
    out.push_str(rest);
    out
}

/// Runs the query; rows in BigQuery's REST encoding (every value a string, or null).
fn run(conn: &duckdb::Connection, sql: &str, binds: &[String]) -> Result<Job, String> {
    use duckdb::types::Value as D;
    let mut stmt = conn.prepare(sql).map_err(|e| e.to_string())?;
    let mut result = stmt
        .query(duckdb::params_from_iter(binds.iter()))
        .map_err(|e| e.to_string())?;
    let mut raw: Vec<Vec<D>> = Vec::new();
    let mut width = 0;
    while let Some(row) = result.next().map_err(|e| e.to_string())? {
        width = row.as_ref().column_count();
        raw.push(
            (0..width)
                .map(|i| row.get::<_, D>(i).unwrap_or(D::Null))
                .collect(),
        );
    }
    let names = result
        .as_ref()
        .map(|s| s.column_names())
        .unwrap_or_default();
    let width = width.max(names.len());
    let mut kinds = vec!["STRING"; width];
    for (i, kind) in kinds.iter_mut().enumerate() {
        if let Some(v) = raw.iter().map(|r| &r[i]).find(|v| !matches!(v, D::Null)) {
            *kind = match v {
                D::Boolean(_) => "BOOLEAN",
                D::TinyInt(_)
                | D::SmallInt(_)
                | D::Int(_)
                | D::BigInt(_)
                | D::HugeInt(_)
                | D::UTinyInt(_)
                | D::USmallInt(_)
                | D::UInt(_)
                | D::UBigInt(_) => "INTEGER",
                D::Float(_) | D::Double(_) | D::Decimal(_) => "FLOAT",
                D::Date32(_) => "DATE",
                D::Timestamp(..) => "TIMESTAMP",
                _ => "STRING",
            };
        }
    }
    let cell = |v: &D| -> Value {
        match v {
            D::Null => Value::Null,
            D::Boolean(b) => json!(b.to_string()),
            D::TinyInt(i) => json!(i.to_string()),
            D::SmallInt(i) => json!(i.to_string()),
            D::Int(i) => json!(i.to_string()),
            D::BigInt(i) => json!(i.to_string()),
            D::HugeInt(i) => json!(i.to_string()),
            D::UTinyInt(i) => json!(i.to_string()),
            D::USmallInt(i) => json!(i.to_string()),
            D::UInt(i) => json!(i.to_string()),
            D::UBigInt(i) => json!(i.to_string()),
            D::Float(f) => json!(f.to_string()),
            D::Double(f) => json!(f.to_string()),
            D::Decimal(d) => json!(d.to_string()),
            D::Text(t) => json!(t),
            D::Date32(days) => json!(
                (chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap()
                    + chrono::Duration::days(i64::from(*days)))
                .to_string()
            ),
            D::Timestamp(_, micros) => json!(format!("{:E}", *micros as f64 / 1e6)),
            other => json!(format!("{other:?}")),
        }
    };
    Ok(Job {
        schema: json!({"fields": names.iter().zip(&kinds).map(|(n, k)| json!({"name": n, "type": k, "mode": "NULLABLE"})).collect::<Vec<_>>()}),
        rows: raw
            .iter()
            .map(|r| json!({"f": r.iter().map(|v| json!({"v": cell(v)})).collect::<Vec<_>>()}))
            .collect(),
    })
}

/// A directory for a BigQuery-path run: HOME without Google credentials, and the env
/// that points the binary at the fake.
pub fn env_for(fake: &FakeBigQuery, home: &Path) -> Vec<(String, String)> {
    vec![
        ("PHASE4_BIGQUERY_API_URL".into(), fake.url.clone()),
        ("PHASE4_BIGQUERY_TOKEN".into(), "test-token".into()),
        ("HOME".into(), home.display().to_string()),
    ]
}
