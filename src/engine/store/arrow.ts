import { createRequire } from 'node:module';

/**
 * apache-arrow as LanceDB sees it. LanceDB `require`s the CommonJS build; importing the ESM build
 * here would load Arrow twice (slower start) and give objects that fail LanceDB's instanceof
 * checks. Everything in rag that builds Arrow values goes through this one copy.
 */
export const arrow = createRequire(import.meta.url)('apache-arrow') as typeof import('apache-arrow');
export type * as ArrowTypes from 'apache-arrow';
