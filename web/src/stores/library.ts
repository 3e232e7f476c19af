import { defineStore } from 'pinia'
import { ref } from 'vue'
import type { Album, TagCount } from '../api/types'
import { services } from '../services'

/** useLibrary holds the albums and tags the filters and editors offer. */
export const useLibrary = defineStore('library', () => {
  const albums = ref<Album[]>([])
  const tags = ref<TagCount[]>([])
  const error = ref('')

  async function refresh(): Promise<void> {
    const { api } = services()
    const [a, t] = await Promise.allSettled([api.listAlbums(), api.listTags()])
    if (a.status === 'fulfilled') albums.value = a.value
    if (t.status === 'fulfilled') tags.value = t.value.sort((x, y) => y.count - x.count || x.tag.localeCompare(y.tag))
    error.value = a.status === 'rejected' || t.status === 'rejected' ? 'Albums or tags could not be loaded.' : ''
  }

  async function createAlbum(name: string): Promise<Album> {
    const al = await services().api.createAlbum(name)
    albums.value = [...albums.value, al].sort((x, y) => x.name.localeCompare(y.name))
    return al
  }

  function clear(): void {
    albums.value = []
    tags.value = []
    error.value = ''
  }

  const albumName = (id: string | undefined) => albums.value.find((a) => a.id === id)?.name ?? ''
  return { albums, tags, error, refresh, createAlbum, albumName, clear }
})
