import { FilterRegistry, type Filter } from './filter.ts';
import { gzip } from './gzip.ts';
import { md5Filter } from './md5.ts';

/** A new registry with drpc's gzip 'z' and md5 '5' filters plus any extra ones. */
export function createFilters(...extra: Filter[]): FilterRegistry {
  return new FilterRegistry([gzip, md5Filter, ...extra]);
}

/** The default registry protos use unless given their own. */
export const filters: FilterRegistry = /* @__PURE__ */ createFilters();
