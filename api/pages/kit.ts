// The types a page module registers its pages and forms with (api/pages/index.ts builds them).
import type { Request } from 'express';
import type { ZodType } from 'zod';
import type * as inputs from '../../app/inputs';
import type { Actor, Role } from '../../workflows/program/types';
import type { FormProblem, FormValues } from './forms';

export type Page = (
  req: Request,
  actor: Actor,
  problem?: { problem: FormProblem; values: FormValues; form: string },
) => Promise<{ page: string; data: Record<string, unknown> }>;

export interface FormOptions<S extends ZodType> {
  roles: readonly Role[];
  schema?: S;
  /** the form's fields as the schema's input (default: the nested fields) */
  shape?: (body: Record<string, unknown>, req: Request, actor: Actor) => unknown;
  run: (actor: Actor, req: Request, input: inputs.In<S>) => Promise<unknown>;
  back: (req: Request) => string;
  view: Page;
  done: string;
  upload?: boolean;
}

/** What a page module needs to register its pages and forms. */
export interface PageKit {
  page: (path: string, build: Page) => void;
  form: <S extends ZodType>(path: string, opts: FormOptions<S>) => void;
}
