/** The console's pages: their paths, titles and who may see them. */
export interface RouteInfo {
  path: string;
  title: string;
  /** Administrators only (the API refuses the others anyway). */
  admin?: boolean;
  /** Other paths showing the same page (the replaced service's forms). */
  aliases?: string[];
}

export type RouteName = 'status' | 'chat' | 'image' | 'forecast' | 'predict' | 'usage' | 'projects' | 'models';

export const ROUTES: Record<RouteName, RouteInfo> = {
  status: { path: '/console/', title: 'Status' },
  chat: { path: '/console/chat', title: 'Chat', aliases: ['/avibe'] },
  image: { path: '/console/image', title: 'Image analysis', aliases: ['/avision'] },
  forecast: { path: '/console/forecast', title: 'Forecast' },
  predict: { path: '/console/predict', title: 'ML predict' },
  usage: { path: '/console/usage', title: 'Usage' },
  projects: { path: '/console/projects', title: 'Projects & keys' },
  models: { path: '/console/models', title: 'ML models' },
};

/** The navigation, in groups. */
export const NAVIGATION: Array<{ group: string; routes: RouteName[] }> = [
  { group: 'Service', routes: ['status'] },
  { group: 'Playgrounds', routes: ['chat', 'image', 'forecast', 'predict'] },
  { group: 'Manage', routes: ['usage', 'projects', 'models'] },
];
