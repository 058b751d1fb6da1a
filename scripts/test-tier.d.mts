export declare const TEST_TIMEOUT_MS: number;
export declare const FILE_TIMEOUT_MS: number;
export declare const FULL_TIER_MARKER: string;
export declare function tierOf(source: string): 'fast' | 'full';
