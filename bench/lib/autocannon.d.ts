// autocannon ships no types; the bench uses a handful of its fields, checked at run time.
declare module 'autocannon';
