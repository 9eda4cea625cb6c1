//! Job ids for a batch: UUIDv7s counted up from one the database made.

use sqlx::PgExecutor;
use uuid::Uuid;

use crate::error::Result;

/// `n` fresh job ids in increasing order, for [`insert_many_with_ids`](super::insert_many_with_ids).
/// The first is the column default's own (`weir.uuid_v7()`: the
/// database's clock and randomness); the others count up from it in the
/// 74 bits below the timestamp, as RFC 9562 (section 6.2, "monotonic
/// random") allows within one millisecond. One round trip of one row
/// serves a batch of any size, instead of the server making every id.
pub async fn new_ids(db: impl PgExecutor<'_>, n: usize) -> Result<Vec<Uuid>> {
    if n == 0 {
        return Ok(Vec::new());
    }
    let first = sqlx::query_scalar!(r#"SELECT weir.uuid_v7() AS "id!""#)
        .fetch_one(db)
        .await?;
    Ok(count_up(first, n))
}

/// `n` version 7 UUIDs counting up from `first` in its 74 random bits
/// (12 of `rand_a`, 62 of `rand_b`), timestamp, version and variant kept.
/// Should `first` sit so high that the count would overflow those bits
/// (a chance of n in 2^74), the count starts lower instead.
fn count_up(first: Uuid, n: usize) -> Vec<Uuid> {
    const RAND_B: u128 = (1 << 62) - 1;
    const TOP: u128 = (1 << 74) - 1;
    let bits = first.as_u128();
    let fixed = bits & !((0xFFF << 64) | RAND_B);
    let start = (((bits >> 64) & 0xFFF) << 62) | (bits & RAND_B);
    let start = start.min(TOP - (n as u128).saturating_sub(1));
    (0..n as u128)
        .map(|i| {
            let r = start + i;
            Uuid::from_u128(fixed | ((r >> 62) << 64) | (r & RAND_B))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::count_up;
    use uuid::Uuid;

    /// The fields of a version 7 UUID that must not change: timestamp,
    /// version and variant.
    fn fixed(id: Uuid) -> u128 {
        id.as_u128() & !((0xFFF << 64) | ((1 << 62) - 1))
    }

    #[test]
    fn ids_count_up_from_the_first_keeping_time_version_and_variant() {
        let first = Uuid::from_u128(0x0190_0000_0000_7abc_bfff_ffff_ffff_fffe);
        let ids = count_up(first, 4);
        assert_eq!(ids[0], first);
        // rand_b overflows into rand_a, past the variant bits.
        assert_eq!(
            ids[1..],
            [
                Uuid::from_u128(0x0190_0000_0000_7abc_bfff_ffff_ffff_ffff),
                Uuid::from_u128(0x0190_0000_0000_7abd_8000_0000_0000_0000),
                Uuid::from_u128(0x0190_0000_0000_7abd_8000_0000_0000_0001),
            ]
        );
        for id in &ids {
            assert_eq!(id.get_version_num(), 7);
            assert_eq!(id.get_variant(), uuid::Variant::RFC4122);
            assert_eq!(fixed(*id), fixed(first));
        }
    }

    #[test]
    fn a_count_that_would_overflow_starts_lower() {
        let first = Uuid::from_u128(0x0190_0000_0000_7fff_bfff_ffff_ffff_fffd);
        let ids = count_up(first, 5);
        assert_eq!(
            ids.last(),
            Some(&Uuid::from_u128(0x0190_0000_0000_7fff_bfff_ffff_ffff_ffff))
        );
        assert!(ids.windows(2).all(|w| w[0] < w[1]));
        assert!(ids.iter().all(|id| fixed(*id) == fixed(first)));
        assert!(count_up(first, 0).is_empty());
    }
}
