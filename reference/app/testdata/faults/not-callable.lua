-- fault: core.app.callable
-- A deliberately broken LASGI app for lasgi-check's seeded-fault tests: one violation.
return 42
