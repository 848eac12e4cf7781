-- The inbox's order as an index (app/inbox.ts: due first, then since, program, subproject, the plan's
-- order; NULLs last as btree's ascending order keeps them): the first page of a role's 10,000 open
-- tasks is read in index order instead of sorting them all.
DROP INDEX "task_role_org_due_idx";
CREATE INDEX "task_inbox_idx" ON "task"("role", "org", "due_at", "since", "program_code", "seq", "ord");
