"""History is append-only at the database level on both databases.

PostgreSQL: row triggers refuse UPDATE and DELETE, a statement trigger refuses TRUNCATE, unless
the session set `urbangrid.history_maintenance = 'on'` (workflow.maintenance).
SQLite: triggers refuse UPDATE and DELETE unless `urbangrid_history_maintenance()` (a function
the application registers on its connections) answers 1.
"""

from django.db import migrations

PG = """
CREATE OR REPLACE FUNCTION workflow_history_append_only() RETURNS trigger AS $$
BEGIN
    IF current_setting('urbangrid.history_maintenance', true) = 'on' THEN
        IF TG_OP = 'TRUNCATE' THEN RETURN NULL; END IF;
        IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'workflow history is append-only (% refused)', TG_OP;
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS workflow_history_append_only ON workflow_history;
CREATE TRIGGER workflow_history_append_only BEFORE UPDATE OR DELETE ON workflow_history
    FOR EACH ROW EXECUTE FUNCTION workflow_history_append_only();
DROP TRIGGER IF EXISTS workflow_history_no_truncate ON workflow_history;
CREATE TRIGGER workflow_history_no_truncate BEFORE TRUNCATE ON workflow_history
    FOR EACH STATEMENT EXECUTE FUNCTION workflow_history_append_only();
"""
PG_DROP = "DROP TRIGGER IF EXISTS workflow_history_no_truncate ON workflow_history;"
SQLITE = [
    """CREATE TRIGGER IF NOT EXISTS workflow_history_no_update BEFORE UPDATE ON workflow_history
       WHEN urbangrid_history_maintenance() = 0
       BEGIN SELECT RAISE(ABORT, 'workflow history is append-only (UPDATE refused)'); END""",
    """CREATE TRIGGER IF NOT EXISTS workflow_history_no_delete BEFORE DELETE ON workflow_history
       WHEN urbangrid_history_maintenance() = 0
       BEGIN SELECT RAISE(ABORT, 'workflow history is append-only (DELETE refused)'); END""",
]
SQLITE_DROP = ["DROP TRIGGER IF EXISTS workflow_history_no_update", "DROP TRIGGER IF EXISTS workflow_history_no_delete"]


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG, None)
    elif vendor == "sqlite":
        for sql in SQLITE:
            schema_editor.execute(sql, None)


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_DROP, None)
    elif vendor == "sqlite":
        for sql in SQLITE_DROP:
            schema_editor.execute(sql, None)


class Migration(migrations.Migration):
    dependencies = [("workflow", "0003_engine_core")]
    operations = [migrations.RunPython(forwards, backwards)]
