//! What a page of `GET /v1/jobs` holds: jobs without `args` and `result`
//! unless asked for, and no more than the server's byte limit of them.

use super::{ApiError, JobDto, JobListDto};
use crate::client::JobPage;

/// The fields `include` asked for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Include {
    args: bool,
    result: bool,
}

impl Include {
    /// Parses `include=args,result` (either, both, or nothing).
    pub(super) fn parse(include: Option<&str>) -> Result<Self, ApiError> {
        let mut out = Include::default();
        for field in include.unwrap_or("").split(',').map(str::trim) {
            match field {
                "" => {}
                "args" => out.args = true,
                "result" => out.result = true,
                _ => {
                    return Err(ApiError::bad_request(
                        "include must list args, result or both, comma-separated",
                    ));
                }
            }
        }
        Ok(out)
    }

    /// The page's jobs as listed: the fields not asked for left out, and
    /// the page cut (with a cursor to the rest) before its JSON passes
    /// `max_bytes`; the first job is always listed.
    pub(super) fn page(self, page: JobPage, max_bytes: usize) -> JobListDto {
        let total = page.jobs.len();
        let mut jobs = Vec::with_capacity(total);
        let mut bytes = 0;
        for job in page.jobs {
            let mut dto = JobDto::from(job);
            if !self.args {
                dto.args = None;
            }
            if !self.result {
                dto.result = None;
            }
            bytes +=
                poem_openapi::types::ToJSON::to_json(&dto).map_or(0, |v| v.to_string().len() + 1);
            if bytes > max_bytes && !jobs.is_empty() {
                break;
            }
            jobs.push(dto);
        }
        let next_cursor = if jobs.len() < total {
            jobs.last().map(|j| j.id.to_string())
        } else {
            page.next_cursor.map(|id| id.to_string())
        };
        JobListDto { jobs, next_cursor }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn include_lists_args_result_or_both() {
        assert_eq!(Include::parse(None).unwrap(), Include::default());
        let both = Include::parse(Some("result, args")).unwrap();
        assert!(both.args && both.result);
        assert!(Include::parse(Some("errors")).is_err());
    }
}
