declare module 'picomatch' {
  type Matcher = (input: string) => boolean;
  function picomatch(glob: string | string[], options?: { dot?: boolean; nocase?: boolean }): Matcher;
  export default picomatch;
}
