// The project root, for the files the pages read at run time (templates/pages, static assets).
export { ROOT } from '../activities/paths';
