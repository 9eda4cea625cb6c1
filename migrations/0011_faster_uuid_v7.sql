-- weir.uuid_v7(), the default of weir.jobs.id, built with less work: the
-- same layout (48-bit Unix milliseconds, version 7, the RFC variant, the
-- rest from gen_random_uuid(), a strong random source), assembled as text
-- instead of through numeric and five bytea copies. Per id: ~3.1 us ->
-- ~2.2 us of server CPU here, of which gen_random_uuid() is ~1.3 us.
--
-- gen_random_uuid()::text is xxxxxxxx-xxxx-4xxx-Vxxx-xxxxxxxxxxxx: its
-- characters from the 16th on keep 3 random digits, the variant digit V
-- and 15 more; the 12 digits of the time and the version digit 7 go in
-- front (uuid input takes a hyphen after any group of four digits).

CREATE OR REPLACE FUNCTION weir.uuid_v7() RETURNS uuid
LANGUAGE sql VOLATILE PARALLEL SAFE AS $$
    SELECT (lpad(to_hex(floor(date_part('epoch', clock_timestamp()) * 1000)::bigint), 12, '0')
            || '7' || substr(gen_random_uuid()::text, 16))::uuid
$$;
COMMENT ON FUNCTION weir.uuid_v7() IS 'A time-ordered UUID (version 7); the default of weir.jobs.id.';
