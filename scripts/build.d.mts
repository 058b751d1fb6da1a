// Types of scripts/build.mjs for the TypeScript files that import it (tests, packages/web/scripts).
export type BuildTarget = 'sdk' | 'server' | 'web';
export declare const root: string;
export declare function inputsHash(name: BuildTarget): string;
export declare function isBuilt(name: BuildTarget): boolean;
export declare function ensureBuilt(names: BuildTarget[], options?: { ifStale?: boolean; quiet?: boolean }): Promise<Partial<Record<BuildTarget, 'built' | 'up to date'>>>;
