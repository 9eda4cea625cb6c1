//! Errors over HTTP: RFC 9457 problem details (`application/problem+json`)
//! for every 4xx/5xx, from operations and from poem itself (unknown route,
//! 405, body limit, auth), mapped in one place. Database text never
//! reaches a client.

use poem::http::StatusCode;
use poem_openapi::Object;

use crate::error::Error;

/// The media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// A problem details body (RFC 9457).
#[derive(Debug, Clone, Object)]
pub struct Problem {
    /// A URI reference naming the problem type (`about:blank` for plain HTTP statuses).
    #[oai(rename = "type")]
    pub ty: String,
    /// A short summary of the problem type.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong with this request, in plain words.
    pub detail: String,
}

impl Problem {
    pub fn new(status: StatusCode, detail: impl Into<String>) -> Self {
        Problem {
            ty: "about:blank".into(),
            title: status.canonical_reason().unwrap_or("Error").into(),
            status: status.as_u16(),
            detail: detail.into(),
        }
    }

    /// A plain poem response with this problem as body.
    pub fn into_response(self) -> poem::Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        poem::Response::builder()
            .status(status)
            .content_type(PROBLEM_JSON)
            .body(
                serde_json::to_vec(&serde_json::json!({
                    "type": self.ty,
                    "title": self.title,
                    "status": self.status,
                    "detail": self.detail,
                }))
                .unwrap_or_default(),
            )
    }
}

/// An error an operation answers with.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub detail: String,
}

impl ApiError {
    pub fn new(status: StatusCode, detail: impl Into<String>) -> Self {
        ApiError {
            status,
            detail: detail.into(),
        }
    }

    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, detail)
    }

    pub fn problem(&self) -> Problem {
        Problem::new(self.status, self.detail.clone())
    }
}

impl From<Error> for ApiError {
    fn from(err: Error) -> Self {
        match err {
            Error::InvalidJob(m) => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, m),
            Error::InvalidArgument(m) => ApiError::new(StatusCode::BAD_REQUEST, m),
            Error::UnknownNode(m) => ApiError::new(StatusCode::NOT_FOUND, m),
            Error::NotFound(id) => {
                ApiError::new(StatusCode::NOT_FOUND, format!("job {id} not found"))
            }
            Error::ScheduleNotFound(m) => ApiError::new(StatusCode::NOT_FOUND, m),
            e @ Error::WorkflowNotFound(_) => ApiError::new(StatusCode::NOT_FOUND, e.to_string()),
            Error::Conflict(m) => ApiError::new(StatusCode::CONFLICT, m),
            e @ Error::IdempotencyKeyReused => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, e.to_string())
            }
            e if e.is_statement_timeout() => {
                tracing::warn!(error = %e, "statement timed out");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "the database did not answer in time; retry later",
                )
            }
            e if e.is_connection_failure() => {
                tracing::warn!(error = %e, "database unavailable");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "the database is unavailable; retry later",
                )
            }
            other => {
                tracing::error!(error = %other, "internal error");
                ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
            }
        }
    }
}

/// A per-operation response enum that can carry a problem. Implemented by
/// `problem_response!` for each operation's `ApiResponse` enum.
pub trait ProblemResponse: Sized {
    fn from_problem(status: StatusCode, problem: Problem) -> Self;
}

/// Converts an error into the operation's response.
pub fn respond<R: ProblemResponse>(err: impl Into<ApiError>) -> R {
    let e: ApiError = err.into();
    R::from_problem(e.status, e.problem())
}

/// The `bad_request_handler` of every operation: malformed JSON, wrong
/// types, unknown fields, bad path or query parameters, wrong content type.
pub fn bad_request<R: ProblemResponse>(err: poem::Error) -> R {
    let status = err.status();
    let status = if status.is_client_error() {
        status
    } else {
        StatusCode::BAD_REQUEST
    };
    R::from_problem(status, Problem::new(status, plain_words(&err.to_string())))
}

/// poem-openapi's parse errors in words a client can act on: the
/// parameter is named with what it must be, the spec's format names
/// (`number_double`) become plain words, and the chain of
/// `(occurred while parsing ...)` goes.
pub fn plain_words(detail: &str) -> String {
    let mut s = detail.to_string();
    while let Some(i) = s.find(" (occurred while parsing \"") {
        let end = s[i..].find("\")").map_or(s.len(), |j| i + j + 2);
        s.replace_range(i..end, "");
    }
    if let Some((name, why)) = s
        .strip_prefix("failed to parse parameter `")
        .and_then(|rest| rest.split_once("`: "))
    {
        return parameter_words(name, why);
    }
    type_words(&s.replace("parse request payload error: ", "invalid request body: "))
}

fn parameter_words(name: &str, why: &str) -> String {
    if let Some(check) = why.strip_prefix("verification failed. ") {
        for (bound, words) in [("minimum(", "at least"), ("maximum(", "at most")] {
            if let Some(rest) = check.strip_prefix(bound) {
                let n = rest.split([',', ')']).next().unwrap_or(rest);
                return format!("{name} must be {words} {n}");
            }
        }
        return format!("{name}: {check}");
    }
    let what = if why.contains("\"number_") {
        "a number"
    } else if why.contains("\"integer_") {
        "a whole number"
    } else if why.contains("enumeration value") {
        "one of the values the API lists"
    } else {
        return format!("{name}: {}", type_words(why));
    };
    format!("{name} must be {what}")
}

fn type_words(s: &str) -> String {
    let mut s = s.replace(
        "Type \"string\" expects an input value",
        "a required field is missing",
    );
    for (format, words) in [
        ("\"integer_int16\"", "a whole number from -32768 to 32767"),
        ("\"integer_int32\"", "a whole number"),
        ("\"integer_int64\"", "a whole number"),
        ("\"number_double\"", "a number"),
        ("\"string_date-time\"", "an RFC 3339 date-time"),
    ] {
        s = s.replace(format, words);
    }
    if s.ends_with("found null.") && s.contains("Expected input type \"") {
        return "invalid request body: a JSON object is required".into();
    }
    s.replace("Expected input type ", "expected ")
        .replace("failed to parse \"string\": ", "")
        .replace("failed to parse an RFC", "not an RFC")
}

/// Implements [`ProblemResponse`] for an operation's response enum. The
/// enum lists `NotFound` / `Conflict` variants (named in the macro call)
/// where the operation can answer them, a 503 variant with `Retry-After`
/// (after `busy =>`) where it has one, and always `ClientError` (4XX) and
/// `ServerError` (5XX).
macro_rules! problem_response {
    ($ty:ident $(, $status:ident => $variant:ident)* $(; busy => $busy:ident)? $(,)?) => {
        impl $crate::api::problem::ProblemResponse for $ty {
            fn from_problem(
                status: ::poem::http::StatusCode,
                problem: $crate::api::problem::Problem,
            ) -> Self {
                $(
                    if status == ::poem::http::StatusCode::$status {
                        return $ty::$variant(::poem_openapi::payload::Json(problem));
                    }
                )*
                $(
                    if status == ::poem::http::StatusCode::SERVICE_UNAVAILABLE {
                        return $ty::$busy(
                            ::poem_openapi::payload::Json(problem),
                            $crate::api::RETRY_AFTER_SECS,
                        );
                    }
                )?
                if status.is_client_error() {
                    $ty::ClientError(status, ::poem_openapi::payload::Json(problem))
                } else {
                    $ty::ServerError(status, ::poem_openapi::payload::Json(problem))
                }
            }
        }
    };
}
pub(crate) use problem_response;

/// Turns any error poem raises outside an operation (unknown route, 405,
/// body limit, auth) into a problem response.
pub async fn catch_all(err: poem::Error) -> poem::Response {
    let status = err.status();
    let detail = if status.is_server_error() {
        tracing::error!(error = %err, "unhandled error");
        "internal error".to_string()
    } else if status == StatusCode::NOT_FOUND {
        "no such route".to_string()
    } else if status == StatusCode::METHOD_NOT_ALLOWED {
        "method not allowed on this route".to_string()
    } else {
        err.to_string()
    };
    Problem::new(status, detail).into_response()
}

#[cfg(test)]
mod tests {
    use super::plain_words;

    #[test]
    fn parameter_errors_name_the_parameter_and_what_it_must_be() {
        assert_eq!(
            plain_words(
                "failed to parse parameter `wait`: failed to parse \"number_double\": invalid \
                 float literal (occurred while parsing \"optional_number_double\")"
            ),
            "wait must be a number"
        );
        assert_eq!(
            plain_words(
                "failed to parse parameter `limit`: verification failed. minimum(1, exclusive: false)"
            ),
            "limit must be at least 1"
        );
        assert_eq!(
            plain_words(
                "failed to parse parameter `state`: failed to parse \"JobState\": Expect a valid \
                 enumeration value. (occurred while parsing \"optional_JobState\")"
            ),
            "state must be one of the values the API lists"
        );
    }

    #[test]
    fn body_errors_say_what_was_expected_in_plain_words() {
        assert_eq!(
            plain_words(
                "parse request payload error: Expected input type \"integer_int16\", found \
                 \"high\". (occurred while parsing \"optional_integer_int16\") (occurred while \
                 parsing \"EnqueueRequest\")"
            ),
            "invalid request body: expected a whole number from -32768 to 32767, found \"high\"."
        );
    }
}
