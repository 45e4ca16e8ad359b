namespace ZeroPg.Replication.Capture;

/// <summary>
/// Publication row filters (<c>CREATE PUBLICATION p FOR TABLE t WHERE (...)</c>), evaluated at decode time as pgoutput does:
/// each action (insert, update, delete) has the filters of the publications that publish it OR-ed together, and none at all
/// when one of those publications has no filter for the table (FOR ALL TABLES, FOR TABLES IN SCHEMA, or a plain FOR TABLE).
/// A recorded row is rebuilt with the columns and types of the shape it was recorded under and the filter's text
/// (pg_publication_tables.rowfilter) evaluated on it; NULL counts as false. Shared by the stream (<see cref="Walsender.RowFilterMatches"/>) and the SQL decoder (Slots/SlotDecoding).
/// </summary>
internal static class RowFilters
{
    public const string Install = """
        CREATE OR REPLACE FUNCTION zeropg_repl.row_filter(rel oid, action "char", pubs text[]) RETURNS text
        LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
            SELECT CASE WHEN bool_or(t.rowfilter IS NULL) THEN NULL ELSE string_agg(DISTINCT '(' || t.rowfilter || ')', ' OR ') END
            FROM pg_publication p JOIN pg_publication_tables t ON t.pubname = p.pubname
            JOIN pg_namespace n ON n.nspname = t.schemaname JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = t.tablename
            WHERE p.pubname = ANY (pubs) AND c.oid = rel
              AND CASE action WHEN 'I' THEN p.pubinsert WHEN 'U' THEN p.pubupdate WHEN 'D' THEN p.pubdelete ELSE false END
        $$;

        -- The row is rebuilt from its fields with the shape it was recorded under (zeropg_repl.shapes), so a row recorded before an
        -- ALTER TABLE is filtered with the columns it had. A filter naming a column the row did not have yet lets it through.
        CREATE OR REPLACE FUNCTION zeropg_repl.row_matches(rel oid, filter text, rec text, at pg_lsn) RETURNS boolean
        LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
        DECLARE matched boolean; shape jsonb; columns text;
        BEGIN
            IF filter IS NULL OR rec IS NULL THEN
                RETURN true;
            END IF;
            shape := zeropg_repl.shape_at(rel, at);
            SELECT string_agg(format('$1[%s]::%s AS %I', c.o, format_type((c.c ->> 't')::oid, (c.c ->> 'm')::integer), c.c ->> 'n'), ', ' ORDER BY c.o)
            INTO columns FROM jsonb_array_elements(shape -> 'cols') WITH ORDINALITY AS c(c, o);
            EXECUTE format('SELECT %s FROM (SELECT %s) AS zeropg_row', filter, columns) INTO matched USING zeropg_repl.record_fields(rec);
            RETURN coalesce(matched, false);
        EXCEPTION WHEN undefined_column THEN
            RETURN true;
        END $$;
        """;
}
