import { createRouter, createWebHistory, type RouteRecordRaw } from 'vue-router'
import { useAuth } from './stores/auth'

declare module 'vue-router' {
  interface RouteMeta {
    public?: boolean
    admin?: boolean
    title?: string
  }
}

const routes: RouteRecordRaw[] = [
  { path: '/login', name: 'login', component: () => import('./views/LoginView.vue'), meta: { public: true, title: 'Sign in' } },
  { path: '/', name: 'gallery', component: () => import('./views/GalleryView.vue'), meta: { title: 'Gallery' } },
  { path: '/images/:id', name: 'image', component: () => import('./views/ImageView.vue'), props: true, meta: { title: 'Image' } },
  { path: '/keys', name: 'keys', component: () => import('./views/KeysView.vue'), meta: { title: 'API keys' } },
  {
    path: '/admin/users',
    name: 'users',
    component: () => import('./views/UsersView.vue'),
    meta: { admin: true, title: 'Users' },
  },
  {
    path: '/admin/stats',
    name: 'stats',
    component: () => import('./views/StatsView.vue'),
    meta: { admin: true, title: 'Statistics' },
  },
  {
    path: '/:rest(.*)*',
    name: 'notfound',
    component: () => import('./views/NotFoundView.vue'),
    meta: { public: true, title: 'Not found' },
  },
]

export function makeRouter() {
  const router = createRouter({
    history: createWebHistory(),
    routes,
    scrollBehavior: (_to, _from, saved) => saved ?? { top: 0 },
  })
  router.beforeEach((to) => {
    const auth = useAuth()
    if (!to.meta.public && !auth.signedIn) {
      return { name: 'login', query: to.fullPath !== '/' ? { next: to.fullPath } : {} }
    }
    if (to.name === 'login' && auth.signedIn) return { name: 'gallery' }
    if (to.meta.admin && !auth.isAdmin) return { name: 'gallery' }
    return true
  })
  router.afterEach((to) => {
    document.title = (to.meta.title ? to.meta.title + ' · ' : '') + 'imgmgr'
  })
  return router
}
