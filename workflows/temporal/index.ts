// Temporal workflow bundle entry (bundleWorkflowCode({ workflowsPath: require.resolve('./workflows/temporal') })).
export { entityWorkflow, execute, getState, notify } from './entity';
