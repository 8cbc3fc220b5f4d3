SELECT package_name, module_name, toString(min(applied)) AS applied, count() AS copies
-- infi.clickhouse_orm's record of applied migrations (MigrationHistory: package_name, module_name, applied Date),
-- one row per migration and package; a few hundred rows at most.
FROM infi_clickhouse_orm_migrations
GROUP BY package_name, module_name
ORDER BY module_name, package_name
LIMIT 5000
