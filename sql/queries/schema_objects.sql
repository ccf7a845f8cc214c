-- The schema as text, for comparing two databases (tests, `migrate status`).
SELECT type, name, tbl_name, coalesce(sql, '') AS sql
FROM sqlite_schema
WHERE name NOT LIKE 'sqlite\_%' ESCAPE '\'
ORDER BY type, name;
