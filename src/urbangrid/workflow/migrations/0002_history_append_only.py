"""On PostgreSQL, forbid UPDATE and DELETE on the history table with a trigger.

(TRUNCATE, used by test flushes and deliberate archiving, is not a row operation.)
On SQLite the model refuses updates and deletes; the admin grants no change permission.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION workflow_history_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'workflow history is append-only (% refused)', TG_OP;
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS workflow_history_append_only ON workflow_history;
CREATE TRIGGER workflow_history_append_only BEFORE UPDATE OR DELETE ON workflow_history
    FOR EACH ROW EXECUTE FUNCTION workflow_history_append_only();
"""
DROP = """
DROP TRIGGER IF EXISTS workflow_history_append_only ON workflow_history;
DROP FUNCTION IF EXISTS workflow_history_append_only();
"""
def forwards(apps, schema_editor):
    conn = schema_editor.connection
    if conn.vendor == "postgresql":
        schema_editor.execute(CREATE, None)


def backwards(apps, schema_editor):
    conn = schema_editor.connection
    if conn.vendor == "postgresql":
        schema_editor.execute(DROP, None)


class Migration(migrations.Migration):
    dependencies = [("workflow", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
