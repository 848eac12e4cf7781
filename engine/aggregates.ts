// The aggregates both engines host (deciders + projections) live in activities/aggregates.ts.
export * from '../activities/aggregates';
