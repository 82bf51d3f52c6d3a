"""PostgreSQL: the case number comes from one function, so that it can be taken inside the
statement that inserts the case, in or outside a transaction."""

from django.db import migrations

CREATE = r"""
CREATE OR REPLACE FUNCTION urbangrid_case_number(prefix text, seq text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    v bigint;
BEGIN
    -- one sequence per day (nextval never blocks concurrent reports; a number taken by a
    -- report that then fails is skipped, never reused); created by the day's first report
    IF to_regclass(seq) IS NULL THEN
        BEGIN
            EXECUTE format('CREATE SEQUENCE IF NOT EXISTS %I', seq);
        EXCEPTION WHEN unique_violation OR duplicate_table THEN
            NULL;  -- created at the same moment by another transaction
        END;
    END IF;
    v := nextval(seq::regclass);
    RETURN prefix || lpad(v::text, greatest(5, length(v::text)), '0');
END
$$;
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP FUNCTION IF EXISTS urbangrid_case_number(text, text)")


class Migration(migrations.Migration):
    dependencies = [("cases", "0002_partial_indexes")]

    operations = [migrations.RunPython(forwards, backwards)]
