-- The public service phone of a grid worker (issue 15, 一图上墙): the number printed beside her name on
-- the wall map at the grid's notice board. A field of its own, set on purpose for the public: the
-- personal phone (grid_worker.phone) stays personal, and masked wherever it is shown.
ALTER TABLE grid_worker ADD COLUMN service_phone text
    CONSTRAINT grid_worker_service_phone_format CHECK (service_phone ~ '^[0-9][0-9 ()+-]{2,29}$');
COMMENT ON COLUMN grid_worker.service_phone IS
    'public service phone (服务电话) printed on the wall map; the personal phone stays masked';
