import { createPinia } from 'pinia'
import { createApp } from 'vue'
import App from './App.vue'
import { makeRouter } from './router'
import { createServices, setServices } from './services'
import './styles/base.css'

const svc = createServices({ storage: window.localStorage })
setServices(svc)
// Another tab signed in, out, or rotated the tokens.
window.addEventListener('storage', (e) => {
  if (e.key === null || e.key === 'imgmgr.session') svc.session.storageChanged()
})

const app = createApp(App)
app.use(createPinia())
app.use(makeRouter())
app.mount('#app')
