import{Q as e}from"./index-Cas9cKzu.js";import{a as r}from"./directory-zZi_Pc2L.js";function a({id:m}){return e.jsx(e.Fragment,{children:r(m)})}export{a as E};
