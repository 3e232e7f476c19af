// Wire types of the imgmgr HTTP API (DESIGN.md §3). They mirror the Go
// structs' JSON tags in the root package (image.go, user.go, event.go);
// keep both sides in step when either changes.

export type Role = 'admin' | 'user'
export type Visibility = 'private' | 'public'

export interface User {
  id: string
  username: string
  role: Role
  created_at?: string
  updated_at?: string
  password_changed_at?: string
}

export interface Session {
  access_token: string
  refresh_token: string
  expires_in: number // seconds
  token_type?: string
  user: User
}

export interface Image {
  id: string
  owner_id: string
  sha256: string
  size: number
  format: string
  width: number
  height: number
  frames: number
  alpha: boolean
  orientation: number
  title: string
  filename: string
  visibility: Visibility
  album_id?: string
  tags: string[] | null
  created_at: string
  updated_at: string
}

export interface ImageUpdate {
  title?: string
  visibility?: Visibility
  album_id?: string
  tags?: string[]
  add_tags?: string[]
  remove_tags?: string[]
}

export type Sort = '-created' | 'created' | '-size' | 'size' | 'title' | '-title'

export interface ImageFilter {
  album?: string
  tag?: string
  format?: string
  visibility?: Visibility | ''
  q?: string
  created_after?: string // RFC 3339
  created_before?: string // RFC 3339
  sort?: Sort
}

export interface ImagePage {
  images: Image[] | null
  next_cursor: string
}

export type BatchAction = 'delete' | 'tag' | 'untag' | 'move' | 'visibility'

export interface BatchRequest {
  action: BatchAction
  ids: string[]
  tags?: string[]
  album_id?: string
  visibility?: Visibility
}

export interface BatchResult {
  id: string
  status: number | string // "ok" | "error"
  image?: Image // the image as changed
  error?: ApiErrorBody['error']
}

export interface Album {
  id: string
  owner_id?: string
  name: string
  created_at?: string
  count?: number
}

export interface TagCount {
  tag: string
  count: number
}

export interface UploadResult {
  filename: string
  status: number | string
  image?: Image
  error?: ApiErrorBody['error']
}

export interface APIKey {
  id: string
  user_id?: string
  name: string
  prefix?: string
  created_at?: string
  last_used_at?: string
}

export interface NewAPIKey {
  key: string
  api_key: APIKey
}

export interface Stats {
  images?: number
  bytes?: number
  users?: number
  uploads_by_day?: { day: string; count: number }[]
  top_images?: { id: string; views: number }[]
}

export interface ApiErrorBody {
  error: { code: string; message: string }
}

export type EventType =
  | 'upload.created'
  | 'upload.progress'
  | 'upload.completed'
  | 'upload.failed'
  | 'scan.result'
  | 'variant.rendered'
  | 'image.deleted'

export type Stage = 'receiving' | 'scanning' | 'processing' | 'done' | 'rejected'

export interface ServerEvent {
  type: EventType
  upload_id?: string
  image_id?: string
  filename?: string
  stage?: Stage
  offset?: number
  length?: number
  code?: string
  message?: string
  time: string
}
