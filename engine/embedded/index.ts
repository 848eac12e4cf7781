export { EmbeddedEngine, type CommandMeta, type CommandResult } from './engine';
