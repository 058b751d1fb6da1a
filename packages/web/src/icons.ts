import type { Device } from './sdk.ts';

/**
 * Device icons as inline SVG (no external assets: the CSP allows images from this origin only,
 * and the page should work offline from the service). Stroke icons drawn on a 24-unit grid; they
 * take the text colour. Static strings, never built from data.
 */
const svg = (body: string) =>
  `<svg viewBox="0 0 24 24" width="24" height="24" fill="none" stroke="currentColor" stroke-width="1.75" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true" focusable="false">${body}</svg>`;

export const deviceIcons: Record<Device['type'], string> = {
  desktop: svg('<rect x="2.5" y="3.5" width="19" height="13" rx="2"/><path d="M8 20.5h8M12 16.5v4"/>'),
  mobile: svg('<rect x="6.5" y="2.5" width="11" height="19" rx="2.5"/><path d="M10.5 18h3"/>'),
  tablet: svg('<rect x="3.5" y="2.5" width="17" height="19" rx="2.5"/><path d="M10.5 18h3"/>'),
  bot: svg('<rect x="4.5" y="8.5" width="15" height="11" rx="2.5"/><path d="M12 5v3.5M9 16h6"/><circle cx="12" cy="4" r="1"/><circle cx="9.5" cy="12.5" r="1"/><circle cx="14.5" cy="12.5" r="1"/><path d="M2.5 13v2M21.5 13v2"/>'),
  unknown: svg('<circle cx="12" cy="12" r="9.5"/><path d="M9.3 9.2a2.8 2.8 0 0 1 5.4 1c0 1.9-2.7 2.5-2.7 4"/><path d="M12 17.5h.01"/>'),
};

